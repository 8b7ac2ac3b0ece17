package etl

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The Arrow schemas of validated records, in the lake's column order. Messages and
// conversations end with their partition, `date`, which is the directory in the lake
// (the Hive partition column), not a column of its files.
var (
	tsType  = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	strList = arrow.ListOf(arrow.BinaryTypes.String)

	nlpStruct = arrow.StructOf(
		arrow.Field{Name: "response_type", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "paragraph_number", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "response_name", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	buttonStruct = arrow.StructOf(
		arrow.Field{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "action", Type: arrow.BinaryTypes.String, Nullable: true},
	)

	messageSchema = arrow.NewSchema([]arrow.Field{
		{Name: "org_uuid", Type: arrow.BinaryTypes.String},
		{Name: "env_uuid", Type: arrow.BinaryTypes.String},
		{Name: "bot_uuid", Type: arrow.BinaryTypes.String},
		{Name: "message_id", Type: arrow.BinaryTypes.String},
		{Name: "session_code", Type: arrow.BinaryTypes.String},
		{Name: "channel_uuid", Type: arrow.BinaryTypes.String},
		{Name: "user_id", Type: arrow.BinaryTypes.String},
		{Name: "direction", Type: arrow.BinaryTypes.String},
		{Name: "created_at", Type: tsType},
		{Name: "content", Type: arrow.BinaryTypes.String},
		{Name: "type", Type: arrow.BinaryTypes.String},
		{Name: "intent", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "minimum_confidence_achieved", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "entities", Type: strList},
		{Name: "nlp_responses", Type: arrow.ListOf(nlpStruct)},
		{Name: "reply_to", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "answer_name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "buttons", Type: arrow.ListOf(buttonStruct)},
		{Name: "flow", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: strList},
		{Name: "source_file", Type: arrow.BinaryTypes.String},
		{Name: "source_line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32}, // the partition: UTC day of created_at
	}, nil)

	conversationSchema = arrow.NewSchema([]arrow.Field{
		{Name: "org_uuid", Type: arrow.BinaryTypes.String},
		{Name: "env_uuid", Type: arrow.BinaryTypes.String},
		{Name: "bot_uuid", Type: arrow.BinaryTypes.String},
		{Name: "session_code", Type: arrow.BinaryTypes.String},
		{Name: "business_key", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "channel_uuid", Type: arrow.BinaryTypes.String},
		{Name: "user_id", Type: arrow.BinaryTypes.String},
		{Name: "started_at", Type: tsType},
		{Name: "ended_at", Type: tsType, Nullable: true},
		{Name: "updated_at", Type: tsType},
		{Name: "satisfaction", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "flows", Type: strList},
		{Name: "tags", Type: strList},
		{Name: "source_file", Type: arrow.BinaryTypes.String},
		{Name: "source_line", Type: arrow.PrimitiveTypes.Int64},
		{Name: "date", Type: arrow.FixedWidthTypes.Date32}, // the partition: UTC day of started_at
	}, nil)

	channelSchema = arrow.NewSchema([]arrow.Field{
		{Name: "org_uuid", Type: arrow.BinaryTypes.String},
		{Name: "env_uuid", Type: arrow.BinaryTypes.String},
		{Name: "bot_uuid", Type: arrow.BinaryTypes.String},
		{Name: "channel_uuid", Type: arrow.BinaryTypes.String},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "description", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "channel_type_id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "channel_type_name", Type: arrow.BinaryTypes.String},
		{Name: "channel_type_image", Type: arrow.BinaryTypes.String},
		{Name: "classification_id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "classification_name", Type: arrow.BinaryTypes.String},
		{Name: "source_file", Type: arrow.BinaryTypes.String},
		{Name: "source_line", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
)

// recordBuilder accumulates validated records of one kind as Arrow columns.
type recordBuilder struct {
	b    *array.RecordBuilder
	rows int
}

func newRecordBuilder(schema *arrow.Schema) *recordBuilder {
	return &recordBuilder{b: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
}

// flush returns the accumulated rows as a record batch (nil when empty).
func (r *recordBuilder) flush() arrow.RecordBatch {
	if r.rows == 0 {
		return nil
	}
	r.rows = 0
	return r.b.NewRecordBatch()
}

func str(b array.Builder) *array.StringBuilder { return b.(*array.StringBuilder) }

func appendOpt(b *array.StringBuilder, s OptString) {
	if s.Valid {
		b.BinaryBuilder.Append(s.S)
	} else {
		b.AppendNull()
	}
}

func appendStrings(b array.Builder, ss [][]byte) {
	lb := b.(*array.ListBuilder)
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, s := range ss {
		vb.BinaryBuilder.Append(s)
	}
}

func appendTenant(b *array.RecordBuilder, t *Tenant) {
	str(b.Field(0)).BinaryBuilder.Append(t.Org[:])
	str(b.Field(1)).BinaryBuilder.Append(t.Env[:])
	str(b.Field(2)).BinaryBuilder.Append(t.Bot[:])
}

func (r *recordBuilder) addMessage(m *Message, file string, line int64) {
	b := r.b
	appendTenant(b, &m.Tenant)
	str(b.Field(3)).BinaryBuilder.Append(m.MessageID)
	str(b.Field(4)).BinaryBuilder.Append(m.SessionCode)
	str(b.Field(5)).BinaryBuilder.Append(m.ChannelUUID[:])
	str(b.Field(6)).BinaryBuilder.Append(m.UserID)
	str(b.Field(7)).BinaryBuilder.Append(m.Direction)
	b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(m.CreatedAt))
	str(b.Field(9)).BinaryBuilder.Append(m.Content)
	str(b.Field(10)).BinaryBuilder.Append(m.Type)
	appendOpt(str(b.Field(11)), m.Intent)
	user := m.IsUser()
	if user && m.HasConfidence {
		b.Field(12).(*array.Float64Builder).Append(m.Confidence)
	} else {
		b.Field(12).AppendNull()
	}
	if user {
		b.Field(13).(*array.BooleanBuilder).Append(m.MinConfAchieved)
	} else {
		b.Field(13).AppendNull()
	}
	appendStrings(b.Field(14), m.Entities)
	nl := b.Field(15).(*array.ListBuilder)
	nl.Append(true)
	ns := nl.ValueBuilder().(*array.StructBuilder)
	for i := range m.NLPResponses {
		n := &m.NLPResponses[i]
		ns.Append(true)
		str(ns.FieldBuilder(0)).BinaryBuilder.Append(n.ResponseType)
		ns.FieldBuilder(1).(*array.Int32Builder).Append(n.ParagraphNumber)
		str(ns.FieldBuilder(2)).BinaryBuilder.Append(n.ResponseName)
	}
	appendOpt(str(b.Field(16)), m.ReplyTo)
	appendOpt(str(b.Field(17)), m.AnswerName)
	bl := b.Field(18).(*array.ListBuilder)
	bl.Append(true)
	bs := bl.ValueBuilder().(*array.StructBuilder)
	for i := range m.Buttons {
		x := &m.Buttons[i]
		bs.Append(true)
		str(bs.FieldBuilder(0)).BinaryBuilder.Append(x.Name)
		appendOpt(str(bs.FieldBuilder(1)), x.Value)
		appendOpt(str(bs.FieldBuilder(2)), x.Action)
	}
	appendOpt(str(b.Field(19)), m.Flow)
	appendStrings(b.Field(20), m.Tags)
	str(b.Field(21)).Append(file)
	b.Field(22).(*array.Int64Builder).Append(line)
	b.Field(23).(*array.Date32Builder).Append(utcDay(int64(m.CreatedAt)))
	r.rows++
}

func (r *recordBuilder) addConversation(c *Conversation, file string, line int64) {
	b := r.b
	appendTenant(b, &c.Tenant)
	str(b.Field(3)).BinaryBuilder.Append(c.SessionCode)
	appendOpt(str(b.Field(4)), c.BusinessKey)
	str(b.Field(5)).BinaryBuilder.Append(c.ChannelUUID[:])
	str(b.Field(6)).BinaryBuilder.Append(c.UserID)
	b.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(c.StartedAt))
	if c.HasEndedAt {
		b.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(c.EndedAt))
	} else {
		b.Field(8).AppendNull()
	}
	b.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(c.UpdatedAt))
	if c.HasSatisfaction {
		b.Field(10).(*array.Int32Builder).Append(c.Satisfaction)
	} else {
		b.Field(10).AppendNull()
	}
	appendStrings(b.Field(11), c.Flows)
	appendStrings(b.Field(12), c.Tags)
	str(b.Field(13)).Append(file)
	b.Field(14).(*array.Int64Builder).Append(line)
	b.Field(15).(*array.Date32Builder).Append(utcDay(int64(c.StartedAt)))
	r.rows++
}

func (r *recordBuilder) addChannel(c *Channel, file string, line int64) {
	b := r.b
	appendTenant(b, &c.Tenant)
	str(b.Field(3)).BinaryBuilder.Append(c.UUID[:])
	str(b.Field(4)).BinaryBuilder.Append(c.Name)
	appendOpt(str(b.Field(5)), c.Description)
	b.Field(6).(*array.Int32Builder).Append(c.TypeID)
	str(b.Field(7)).BinaryBuilder.Append(c.TypeName)
	str(b.Field(8)).BinaryBuilder.Append(c.TypeImage)
	b.Field(9).(*array.Int32Builder).Append(c.ClassID)
	str(b.Field(10)).BinaryBuilder.Append(c.ClassName)
	str(b.Field(11)).Append(file)
	b.Field(12).(*array.Int64Builder).Append(line)
	r.rows++
}

// utcDay is the UTC day of a time in microseconds since the epoch: the lake partition
// of a record. Computed here, it spares DuckDB a time-zone conversion per row.
func utcDay(micros int64) arrow.Date32 {
	const day = 86_400_000_000
	d := micros / day
	if micros%day < 0 {
		d--
	}
	return arrow.Date32(d)
}
