package generate

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"time"
)

// model is everything fixed for a run: tenants with their channels and JSON fragments,
// the content tables, the per-day message budgets and the keys of the identifiers.
type model struct {
	seed     int64
	startMs  int64 // 00:00 UTC of day 0, Unix ms
	days     int
	budgets  []int64 // messages per day
	tenants  []tenantModel
	tenantCm []float64 // cumulative tenant weights, last = 1

	intentsByFlow [][]int

	userText   [][]byte // `,"content":"…"` of user texts; intent i owns userTextAt[i]…, noise after
	userTextAt []int
	noiseAt    int

	botContent [][]byte // `,"content":"…"`, see botContent* indexes
	answerName [][]byte // `,"answerName":"…"`, same indexes
	buttons    [][]byte // `,"buttons":[…]` by button set
	intentFrag [][]byte // `,"intent":"…"`
	intentNLP  [][]byte // `,"nlpResponses":[{…INTENT…}` without the closing bracket
	documents  [][]byte // `,{"responseType":"DOCUMENT","paragraphNumber":` … see appendUser
	entities   [][]byte // `"plano"`
	flowFrag   [][]byte // `,"flow":"…"`
	flowName   [][]byte // `"Boas-vindas"`
	tagName    [][]byte // `"vip"`
	sessionKey uint64
	messageKey uint64
	randomKey  uint64
}

// Indexes into botContent and answerName after the per-intent entries.
const (
	botFallback = iota + 1000
	botMenu
	botCarousel
	botImage
	botFile
)

type tenantModel struct {
	Tenant
	msgHead  []byte // `{"kind":"message","orgUuid":…,"botUuid":"…"`
	convHead []byte
	channels []channelModel
	chanCm   []float64
	pool     int64 // user ids are u000000 … u<pool-1>
	userOff  int64
}

type channelModel struct {
	uuid string
	typ  *channelType
	name string
	desc string
	frag []byte // `,"channelUuid":"…"`
}

func newModel(o Options) *model {
	m := &model{
		seed:    o.Seed,
		startMs: o.Start.UnixMilli(),
		days:    o.Days,
	}
	k := sha256.Sum256([]byte("generate/v1/" + strconv.FormatInt(o.Seed, 10) + "/" + o.Start.Format(time.DateOnly)))
	m.sessionKey = binary.LittleEndian.Uint64(k[0:])
	m.messageKey = binary.LittleEndian.Uint64(k[8:])
	m.randomKey = binary.LittleEndian.Uint64(k[16:])

	m.budgets = dayBudgets(int64(o.Messages), o.Start, o.Days)

	var total float64
	for _, t := range o.Tenants {
		total += t.Weight
	}
	// Expected conversations of the whole run, to size each tenant's user pool.
	expConvs := float64(o.Messages) / avgMessagesPerConversation
	var cum float64
	for _, t := range o.Tenants {
		cum += t.Weight / total
		m.tenantCm = append(m.tenantCm, cum)
		tm := tenantModel{Tenant: t}
		head := func(kind string) []byte {
			return []byte(`{"kind":"` + kind + `","orgUuid":"` + t.OrgUUID + `","envUuid":"` + t.EnvUUID + `","botUuid":"` + t.BotUUID + `"`)
		}
		tm.msgHead = head("message")
		tm.convHead = head("conversation")
		tm.channels, tm.chanCm = tenantChannels(t.BotUUID)
		pool := int64(expConvs * t.Weight / total * 0.45)
		tm.pool = min(max(pool, 20), 999_999)
		h := sha256.Sum256([]byte("users/" + t.BotUUID))
		tm.userOff = int64(binary.LittleEndian.Uint64(h[:]) % uint64(tm.pool))
		m.tenants = append(m.tenants, tm)
	}
	m.tenantCm[len(m.tenantCm)-1] = 1

	m.intentsByFlow = make([][]int, len(flowNames))
	for i, in := range intents {
		m.intentsByFlow[in.flow] = append(m.intentsByFlow[in.flow], i)
		m.userTextAt = append(m.userTextAt, len(m.userText))
		for _, s := range in.texts {
			m.userText = append(m.userText, field("content", s))
		}
		m.botContent = append(m.botContent, field("content", in.reply))
		m.answerName = append(m.answerName, field("answerName", in.answer))
		m.intentFrag = append(m.intentFrag, field("intent", in.name))
		m.intentNLP = append(m.intentNLP, []byte(`,"nlpResponses":[{"responseType":"INTENT","paragraphNumber":0,"responseName":`+string(jsonString(in.name))+`}`))
	}
	m.noiseAt = len(m.userText)
	for _, s := range noiseTexts {
		m.userText = append(m.userText, field("content", s))
	}
	m.botContent = append(m.botContent, field("content", fallbackText), field("content", menuText),
		field("content", ""), field("content", imageURL), field("content", fileURL))
	m.answerName = append(m.answerName, field("answerName", fallbackAnswer), field("answerName", menuAnswer),
		field("answerName", carouselAnswer), field("answerName", imageAnswer), field("answerName", fileAnswer))
	for _, set := range buttonSets {
		b := []byte(`,"buttons":[`)
		for j, bt := range set {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, bt.name)
			b = append(b, `,"value":`...)
			b = appendJSONString(b, bt.value)
			b = append(b, `,"action":`...)
			b = appendJSONString(b, bt.action)
			b = append(b, '}')
		}
		m.buttons = append(m.buttons, append(b, ']'))
	}
	for _, d := range documents {
		m.documents = append(m.documents, jsonString(d))
	}
	for _, e := range entityNames {
		m.entities = append(m.entities, jsonString(e))
	}
	for _, f := range flowNames {
		m.flowFrag = append(m.flowFrag, field("flow", f))
		m.flowName = append(m.flowName, jsonString(f))
	}
	for _, t := range tagNames {
		m.tagName = append(m.tagName, jsonString(t))
	}
	return m
}

// content and answer fragments by the indexes used in msg.
func (m *model) content(i int16) []byte {
	if i >= botFallback {
		return m.botContent[len(intents)+int(i-botFallback)]
	}
	return m.botContent[i]
}

func (m *model) answer(i int16) []byte {
	if i >= botFallback {
		return m.answerName[len(intents)+int(i-botFallback)]
	}
	return m.answerName[i]
}

// field returns `,"name":"<value as JSON>"`.
func field(name, value string) []byte {
	return appendJSONString([]byte(`,"`+name+`":`), value)
}

// tenantChannels derives a bot's 3–6 channels from its UUID: WhatsApp and Web Chat first,
// then other types; each channel's UUID is a hash of the bot UUID and its position.
func tenantChannels(botUUID string) ([]channelModel, []float64) {
	h := sha256.Sum256([]byte("channels/" + botUUID))
	n := 3 + int(h[0]%4)
	types := []int{0, 1}
	// The other four types in an order fixed by the hash.
	rest := []int{2, 3, 4, 5}
	for i := len(rest) - 1; i > 0; i-- {
		j := int(h[1+i]) % (i + 1)
		rest[i], rest[j] = rest[j], rest[i]
	}
	types = append(types, rest[:n-2]...)
	purpose := int(h[8]) % len(channelPurposes)
	var chans []channelModel
	var weights []float64
	var total float64
	for i, ti := range types {
		ct := &channelTypes[ti]
		u := sha256.Sum256([]byte("channel/" + botUUID + "/" + strconv.Itoa(i)))
		hi := binary.BigEndian.Uint64(u[0:])&^0xf000 | 0x4000
		lo := binary.BigEndian.Uint64(u[8:])&^(3<<62) | 2<<62
		id := string(appendUUID(nil, hi, lo))
		p := channelPurposes[(purpose+i)%len(channelPurposes)]
		chans = append(chans, channelModel{
			uuid: id,
			typ:  ct,
			name: ct.short + " " + p.name,
			desc: p.description,
			frag: []byte(`,"channelUuid":"` + id + `"`),
		})
		weights = append(weights, ct.weight)
		total += ct.weight
	}
	cm := make([]float64, len(weights))
	var cum float64
	for i, w := range weights {
		cum += w / total
		cm[i] = cum
	}
	cm[len(cm)-1] = 1
	return chans, cm
}

// appendChannel appends the catalog record of channel c of tenant t.
func appendChannel(dst []byte, t *tenantModel, c *channelModel) []byte {
	dst = append(dst, `{"kind":"channel","orgUuid":"`...)
	dst = append(dst, t.OrgUUID...)
	dst = append(dst, `","envUuid":"`...)
	dst = append(dst, t.EnvUUID...)
	dst = append(dst, `","botUuid":"`...)
	dst = append(dst, t.BotUUID...)
	dst = append(dst, `","uuid":"`...)
	dst = append(dst, c.uuid...)
	dst = append(dst, `","name":`...)
	dst = appendJSONString(dst, c.name)
	dst = append(dst, `,"description":`...)
	dst = appendJSONString(dst, c.desc)
	dst = append(dst, `,"channelType":{"id":`...)
	dst = strconv.AppendInt(dst, int64(c.typ.id), 10)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, c.typ.name)
	dst = append(dst, `,"image":`...)
	dst = appendJSONString(dst, c.typ.image)
	dst = append(dst, `,"channelClassification":{"id":`...)
	dst = strconv.AppendInt(dst, int64(c.typ.classID), 10)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, c.typ.className)
	return append(dst, "}}}\n"...)
}

// avgMessagesPerConversation is the mean size drawn by drawShape (turns 1–8, 1–2 replies each).
const avgMessagesPerConversation = 8.2

// dayBudgets splits the messages over the days by weekday and a slight growth trend
// (+15% from the first day to the last), by largest remainder so the sum is exact.
func dayBudgets(messages int64, start time.Time, days int) []int64 {
	weights := make([]float64, days)
	var total float64
	for d := range weights {
		trend := 1.0
		if days > 1 {
			trend += 0.15 * float64(d) / float64(days-1)
		}
		w := weekdayWeights[start.AddDate(0, 0, d).Weekday()] * trend
		weights[d] = w
		total += w
	}
	budgets := make([]int64, days)
	type frac struct {
		day int
		f   float64
	}
	fracs := make([]frac, days)
	var assigned int64
	for d, w := range weights {
		exact := float64(messages) * w / total
		budgets[d] = int64(math.Floor(exact))
		assigned += budgets[d]
		fracs[d] = frac{d, exact - math.Floor(exact)}
	}
	// Largest remainders first; ties by day.
	slices.SortStableFunc(fracs, func(a, b frac) int { return cmp.Compare(b.f, a.f) })
	for i := int64(0); assigned < messages; i++ {
		budgets[fracs[i%int64(days)].day]++
		assigned++
	}
	return budgets
}
