// Package generate writes realistic demo chatbot logs in the landing format v1
// (CONTRACT §2): NDJSON files of channel, conversation and message lines, as a bot
// runtime would drop them into landing/.
//
// It owns the demo data set: its tenants, channel catalog, traffic shape (diurnal,
// weekly, slight growth), conversation scripts in Portuguese, and the realistic
// imperfections of real feeds: times written with offsets, conversations that cross
// midnight, late conversation updates, duplicate message lines (at-least-once
// delivery) and, on request, bad lines of every kind the extractor must quarantine.
//
// Output is a pure function of Options: the same Options give byte-identical files
// whatever the number of workers. Each UTC day is planned from its own RNG (seeded by
// Seed and the day index), and the conversations of a day that spill past midnight
// are re-derived by the next day's writer, so days are written independently and in
// parallel.
//
// Files for seed S, written as <name>.tmp and renamed when complete, in byte-wise order:
//
//	gen-S-0-catalog.ndjson                  channel records of every tenant
//	gen-S-1-events-YYYYMMDD.ndjson[.gz]     one per UTC day, lines in time order
//	gen-S-2-late-updates.ndjson[.gz]        later records of ~3% of the conversations
//
// The package never reads landing/, never touches files other than its own, and never
// logs: it returns Stats and leaves reporting to the caller.
package generate
