package warehouse

import "github.com/apache/arrow-go/v18/arrow/array"

// RecordReader is a stream of Arrow record batches.
type RecordReader = array.RecordReader
