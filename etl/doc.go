// Package etl owns the way from landing/ to the lake: it finds landing files, reads them
// line by line (gzip too, no line-length limit), validates every line against the log
// format v1 (CONTRACT §2, §7), quarantines bad lines with their reason, and merges the
// good records into the Hive-partitioned Parquet lake — messages deduplicated by
// (tenant, messageId) in file order, conversations by the greatest (updatedAt, file,
// line), channels last wins — publishing every partition atomically. It also compacts,
// purges and ages out lake partitions.
//
// It must never lose or double a record: every record carries its origin (source_file,
// source_line), and the merge is a pure function of the set of landing files, so a
// rerun, a crash and rerun, or files landing out of order all converge on the same lake.
// It never reads or writes the warehouse.
package etl
