package generate

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

const (
	maxTurns      = 8
	maxMessages   = maxTurns * 3
	maxFlows      = 5 // up to 4 travelled, plus one a late update may add
	maxSpanMs     = 15 * 60_000
	hourMs        = 3_600_000
	offsetPercent = 5 // share of lines whose times are written with a UTC offset
)

// planned is one conversation of a day's plan: enough to place it in time and to size it.
// Everything else is drawn from its own RNG, seeded by seed.
type planned struct {
	start   int64  // startedAt, Unix ms
	seed    uint64 // the conversation's RNG seed
	turns   uint8  // USER messages
	replies uint16 // BOT replies after turn i: (replies >> 2i) & 3, 0..2
}

func (p *planned) messages() int {
	n := int(p.turns)
	for i := 0; i < int(p.turns); i++ {
		n += int(p.replies>>(2*i)) & 3
	}
	return n
}

// splitmix64 is the SplitMix64 finaliser: a fast 64-bit hash.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// permute is a keyed bijection on [0, 2^bits): distinct inputs give distinct outputs,
// which keeps generated identifiers unique while making them look random.
func permute(x, key uint64, bits uint) uint64 {
	mask := uint64(1)<<bits - 1
	x = (x ^ key) & mask
	x = x * 0x9e3779b97f4a7c15 & mask
	x ^= x >> (bits / 2)
	x = x * 0xbf58476d1ce4e5b9 & mask
	x ^= x >> (bits/2 - 3)
	x = x * 0x94d049bb133111eb & mask
	return x ^ x>>(bits/2)
}

// dayRand is the RNG that plans day d.
func (m *model) dayRand(d int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(uint64(m.seed)^0x5eed_da75), splitmix64(uint64(d)^0xda7_0f_7ea4)))
}

// plan draws the conversations of day d, sorted by start, until their messages add up to
// the day's budget exactly (the last conversation is cut short when needed).
func (m *model) plan(d int, dst []planned) []planned {
	dst = dst[:0]
	if d < 0 || d >= m.days {
		return dst
	}
	r := m.dayRand(d)
	dayStart := m.startMs + int64(d)*msPerDay
	latest := dayStart + msPerDay - 1
	if d == m.days-1 {
		latest -= maxSpanMs // the run's last day does not spill past its end
	}
	var cum [24]float64
	var total float64
	for h, w := range hourWeights {
		total += w
		cum[h] = total
	}
	for left := m.budgets[d]; left > 0; {
		p := planned{seed: r.Uint64()}
		p.turns = drawTurns(r)
		for i := 0; i < int(p.turns); i++ {
			rep := uint16(1)
			if r.IntN(10) < 3 {
				rep = 2
			}
			p.replies |= rep << (2 * i)
		}
		n := int64(p.messages())
		for n > left { // trim the end: drop replies, then turns
			last := int(p.turns) - 1
			if rep := p.replies >> (2 * last) & 3; rep > 0 {
				p.replies -= 1 << (2 * last)
			} else {
				p.turns--
			}
			n--
		}
		left -= n
		for {
			u := r.Float64() * total
			h := 0
			for h < 23 && cum[h] <= u {
				h++
			}
			p.start = dayStart + int64(h)*hourMs + r.Int64N(hourMs)
			if p.start <= latest {
				break
			}
		}
		dst = append(dst, p)
	}
	slices.SortFunc(dst, func(a, b planned) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.seed, b.seed)) })
	return dst
}

var turnWeights = [maxTurns]int{14, 22, 20, 15, 11, 8, 6, 4} // turns 1..8, percent

func drawTurns(r *rand.Rand) uint8 {
	x := r.IntN(100)
	for i, w := range turnWeights {
		if x < w {
			return uint8(i + 1)
		}
		x -= w
	}
	return maxTurns
}

// msg is one message of a conversation, as indexes into the model's tables.
type msg struct {
	at      int64
	bot     bool
	typ     uint8
	off     int16 // UTC offset in minutes the line is written in
	flow    uint8
	replyTo uint8 // index of the USER message a BOT message answers
	// USER
	intent  int8   // index into intents; -1 null, -2 "fallback"
	conf    uint16 // confidence × 10000
	text    int16  // index into model.userText
	nEnts   uint8
	ents    [3]uint8
	doc     int8 // index into documents, -1 none
	docPara uint8
	// BOT
	content int16 // see model.content
	answer  int16 // see model.answer; -1 none
	buttons int8  // index into buttonSets, -1 none
}

// conv is one conversation, fully drawn: its record and its messages.
type conv struct {
	day     int
	idx     int
	order   uint64 // tie-break between conversations in a day's merge
	tenant  int
	channel int
	session [16]byte
	sessLen int
	user    int64
	start   int64
	off     int16
	ended   bool
	end     int64
	sat     int8 // 0 = not rated
	flows   [maxFlows]uint8
	nFlows  int
	tags    [2]uint8
	nTags   int
	bizKind int8 // 0 none, 1 protocol, 2 order
	bizNum  int32
	late    struct {
		on       bool
		delay    int64 // updatedAt = new endedAt + delay
		endShift int64 // endedAt moves later by this (or is set, when it was absent)
		sat      int8
		human    bool // the update adds the "Atendimento Humano" flow
		off      int16
	}
	n    int
	next int // next message to write
	msgs [maxMessages]msg
}

func (c *conv) nextAt() int64 { return c.msgs[c.next].at }
func (c *conv) lastAt() int64 { return c.msgs[c.n-1].at }

// builder draws conversations; it owns an RNG that is re-seeded for each one.
type builder struct {
	m    *model
	pcg  *rand.PCG
	r    *rand.Rand
	zipf []*rand.Zipf
}

func newBuilder(m *model) *builder {
	b := &builder{m: m, pcg: rand.NewPCG(0, 0)}
	b.r = rand.New(b.pcg)
	for _, t := range m.tenants {
		var z *rand.Zipf
		if t.pool > 1 {
			z = rand.NewZipf(b.r, 1.15, 2, uint64(t.pool-1))
		}
		b.zipf = append(b.zipf, z)
	}
	return b
}

func pick(r *rand.Rand, cum []float64) int {
	u := r.Float64()
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

func (b *builder) offset() int16 {
	if b.r.IntN(100) < offsetPercent {
		return int16(offsets[b.r.IntN(len(offsets))])
	}
	return 0
}

var satisfactionWeights = []int{5, 7, 13, 30, 45} // 1..5, percent

// build draws conversation idx of day d from its plan entry p into c.
func (b *builder) build(c *conv, p *planned, d, idx int) {
	m, r := b.m, b.r
	b.pcg.Seed(p.seed, p.seed^0xc0_47_5eed)
	*c = conv{day: d, idx: idx, start: p.start}
	c.tenant = pick(r, m.tenantCm)
	t := &m.tenants[c.tenant]
	c.channel = pick(r, t.chanCm)
	ch := &t.channels[c.channel]

	s := append(c.session[:0], ch.typ.session...)
	s = append(s, '-')
	s = appendBase(s, permute(uint64(d)<<33|uint64(idx), m.sessionKey, 53), 9, base62Digits)
	c.sessLen = len(s)

	var rank int64
	if z := b.zipf[c.tenant]; z != nil && r.IntN(100) >= 40 {
		rank = int64(z.Uint64()) // returning users, a few very frequent
	} else {
		rank = r.Int64N(t.pool)
	}
	c.user = (rank*1_000_003 + t.userOff) % t.pool
	c.off = b.offset()

	turns := int(p.turns)
	c.nFlows = 1
	switch x := r.IntN(100); {
	case x >= 92:
		c.nFlows = 4
	case x >= 75:
		c.nFlows = 3
	case x >= 45:
		c.nFlows = 2
	}
	c.nFlows = min(c.nFlows, turns)
	for i := 0; i < c.nFlows; i++ {
		f := r.IntN(len(flowNames))
		if i == 0 && r.IntN(100) < 75 {
			f = flowWelcome
		}
		for i > 0 && f == int(c.flows[i-1]) {
			f = r.IntN(len(flowNames))
		}
		c.flows[i] = uint8(f)
	}

	var tagsSeen [8]bool
	switch x := r.IntN(100); {
	case x >= 88:
		c.nTags = 2
	case x >= 60:
		c.nTags = 1
	}
	for i := 0; i < c.nTags; i++ {
		tg := r.IntN(len(tagNames))
		for tagsSeen[tg] {
			tg = r.IntN(len(tagNames))
		}
		tagsSeen[tg] = true
		c.tags[i] = uint8(tg)
	}

	at := p.start + 200 + r.Int64N(2800)
	prevIntent := int8(-1)
	for i := 0; i < turns; i++ {
		flow := c.flows[i*c.nFlows/turns]
		u := &c.msgs[c.n]
		b.user(u, int(flow), i, turns, prevIntent)
		prevIntent = u.intent
		u.at = at
		userIdx := c.n
		c.n++
		for j := 0; j < int(p.replies>>(2*i))&3; j++ {
			if j == 0 {
				at += 600 + r.Int64N(3400)
			} else {
				at += 400 + r.Int64N(2100)
			}
			bm := &c.msgs[c.n]
			b.reply(bm, u, j)
			bm.at, bm.flow, bm.replyTo = at, flow, uint8(userIdx)
			c.n++
		}
		at += 4000 + min(int64(r.ExpFloat64()*18_000), 86_000)
	}

	if r.IntN(100) < 85 {
		c.ended = true
		c.end = c.lastAt() + 10_000 + r.Int64N(110_000)
	}
	if r.IntN(100) < 40 {
		c.sat = drawSatisfaction(r)
	}
	if x := r.IntN(100); x < 50 {
		if x < 35 {
			c.bizKind, c.bizNum = 1, int32(r.IntN(10_000))
		} else {
			c.bizKind, c.bizNum = 2, int32(r.IntN(100_000))
		}
	}
	if r.IntN(100) < 3 {
		c.late.on = true
		c.late.delay = hourMs + r.Int64N(47*hourMs)
		if c.ended {
			if r.IntN(100) < 30 {
				c.late.endShift = 60_000 + r.Int64N(540_000)
			}
		} else {
			c.late.endShift = 30_000 + r.Int64N(270_000)
		}
		if c.sat == 0 && r.IntN(100) < 70 {
			c.late.sat = drawSatisfaction(r)
		}
		c.late.human = r.IntN(100) < 40
		c.late.off = b.offset()
	}
}

func drawSatisfaction(r *rand.Rand) int8 {
	x := r.IntN(100)
	for i, w := range satisfactionWeights {
		if x < w {
			return int8(i + 1)
		}
		x -= w
	}
	return 5
}

// user draws USER message number turn of turns, in flow; prev is the intent of the
// previous one, which users rarely repeat.
func (b *builder) user(u *msg, flow, turn, turns int, prev int8) {
	m, r := b.m, b.r
	var in int
	switch {
	case turn == 0 && flow == flowWelcome && r.IntN(100) < 60:
		in = intentGreeting
	case turn == turns-1 && turns > 1 && r.IntN(100) < 30:
		in = intentThanks
		if r.IntN(2) == 0 {
			in = intentGoodbye
		}
	case r.IntN(100) < 80:
		fl := m.intentsByFlow[flow]
		in = fl[r.IntN(len(fl))]
		if in == int(prev) && r.IntN(100) < 80 {
			in = r.IntN(len(intents))
		}
	default:
		in = r.IntN(len(intents))
	}
	*u = msg{typ: typeText, off: b.offset(), flow: uint8(flow), doc: -1, answer: -1, buttons: -1}
	textAt, nTexts := m.userTextAt[in], len(intents[in].texts)
	if r.IntN(100) >= 22 { // understood
		u.intent = int8(in)
		u.conf = uint16(min(6000+int(4001*math.Sqrt(r.Float64())), 10_000))
		u.text = int16(textAt + r.IntN(nTexts))
		if r.IntN(100) < 15 {
			u.doc, u.docPara = int8(r.IntN(len(documents))), uint8(1+r.IntN(60))
		}
	} else {
		u.intent = -1
		if r.IntN(100) < 40 {
			u.intent = -2
		}
		u.conf = uint16(200 + r.IntN(5800))
		if r.IntN(2) == 0 {
			u.text = int16(m.noiseAt + r.IntN(len(noiseTexts)))
		} else {
			u.text = int16(textAt + r.IntN(nTexts))
		}
		if r.IntN(100) < 8 {
			u.doc, u.docPara = int8(r.IntN(len(documents))), uint8(1+r.IntN(60))
		}
	}
	switch x := r.IntN(100); {
	case x >= 93:
		u.nEnts = 3
	case x >= 80:
		u.nEnts = 2
	case x >= 55:
		u.nEnts = 1
	}
	var seen [8]bool
	for i := 0; i < int(u.nEnts); i++ {
		e := r.IntN(len(entityNames))
		for seen[e] {
			e = r.IntN(len(entityNames))
		}
		seen[e] = true
		u.ents[i] = uint8(e)
	}
}

// reply draws the BOT reply number j (0 or 1) to the USER message u.
func (b *builder) reply(bm *msg, u *msg, j int) {
	r := b.r
	*bm = msg{bot: true, typ: typeText, off: b.offset(), intent: -1, doc: -1, buttons: -1}
	switch {
	case j == 0 && u.intent >= 0:
		in := &intents[u.intent]
		bm.content, bm.answer, bm.typ, bm.buttons = int16(u.intent), int16(u.intent), uint8(in.typ), int8(in.button)
	case j == 0:
		bm.content, bm.answer = botFallback, botFallback
		if r.IntN(100) < 40 {
			bm.typ, bm.buttons = typeButtons, buttonsMenu
		}
	default:
		switch x := r.IntN(100); {
		case x < 50:
			bm.content, bm.answer, bm.typ, bm.buttons = botMenu, botMenu, typeButtons, buttonsMenu
		case x < 80:
			bm.content, bm.answer, bm.typ, bm.buttons = botCarousel, botCarousel, typeCarousel, buttonsPlans
		case x < 90:
			bm.content, bm.answer, bm.typ, bm.buttons = botImage, botImage, typeImage, buttonsSite
		default:
			bm.content, bm.answer, bm.typ = botFile, botFile, typeFile
		}
	}
	if r.IntN(100) < 8 {
		bm.answer = -1
	}
}

// appendMessageID appends the id of message i of c: unique per run, "wamid.…" on WhatsApp.
func (m *model) appendMessageID(dst []byte, c *conv, i int) []byte {
	u := permute(uint64(c.day)<<37|uint64(c.idx)<<5|uint64(i), m.messageKey, 62)
	rnd := splitmix64(u ^ m.randomKey)
	if m.tenants[c.tenant].channels[c.channel].typ.wamid {
		dst = append(dst, "wamid."...)
		dst = appendBase(dst, rnd, 8, base36Digits)
		return appendBase(dst, u, 12, base36Digits) // 36^12 > 2^62: u is kept whole
	}
	return appendUUID(dst, rnd&^0xf000|0x4000, u|1<<63)
}

func appendUserID(dst []byte, user int64) []byte {
	dst = append(dst, `,"userId":"u`...)
	dst = appendPad(dst, user, 6)
	return append(dst, '"')
}

// appendMessage appends message i of c as a line.
func (m *model) appendMessage(dst []byte, c *conv, i int) []byte {
	t := &m.tenants[c.tenant]
	ms := &c.msgs[i]
	dst = append(dst, t.msgHead...)
	dst = append(dst, `,"messageId":"`...)
	dst = m.appendMessageID(dst, c, i)
	dst = append(dst, `","sessionCode":"`...)
	dst = append(dst, c.session[:c.sessLen]...)
	dst = append(dst, '"')
	dst = append(dst, t.channels[c.channel].frag...)
	dst = appendUserID(dst, c.user)
	if ms.bot {
		dst = append(dst, `,"direction":"BOT","createdAt":"`...)
	} else {
		dst = append(dst, `,"direction":"USER","createdAt":"`...)
	}
	dst = appendTime(dst, ms.at, int(ms.off))
	dst = append(dst, '"')
	if ms.bot {
		dst = append(dst, m.content(ms.content)...)
	} else {
		dst = append(dst, m.userText[ms.text]...)
	}
	dst = append(dst, `,"type":"`...)
	dst = append(dst, messageTypes[ms.typ]...)
	dst = append(dst, '"')
	if ms.bot {
		dst = append(dst, `,"replyTo":"`...)
		dst = m.appendMessageID(dst, c, int(ms.replyTo))
		dst = append(dst, '"')
		if ms.answer >= 0 {
			dst = append(dst, m.answer(ms.answer)...)
		}
		if ms.buttons >= 0 {
			dst = append(dst, m.buttons[ms.buttons]...)
		}
	} else {
		dst = m.appendNLP(dst, ms)
	}
	dst = append(dst, m.flowFrag[ms.flow]...)
	if !ms.bot && c.nTags > 0 {
		dst = m.appendTags(dst, c)
	}
	return append(dst, "}\n"...)
}

func (m *model) appendNLP(dst []byte, u *msg) []byte {
	switch u.intent {
	case -1:
		dst = append(dst, `,"intent":null`...)
	case -2:
		dst = append(dst, `,"intent":"fallback"`...)
	default:
		dst = append(dst, m.intentFrag[u.intent]...)
	}
	dst = append(dst, `,"confidence":`...)
	dst = appendConfidence(dst, int(u.conf))
	if u.conf >= 6000 {
		dst = append(dst, `,"minimumConfidenceAchieved":true`...)
	} else {
		dst = append(dst, `,"minimumConfidenceAchieved":false`...)
	}
	dst = append(dst, `,"entities":[`...)
	for i := 0; i < int(u.nEnts); i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.entities[u.ents[i]]...)
	}
	dst = append(dst, ']')
	if u.intent >= 0 {
		dst = append(dst, m.intentNLP[u.intent]...)
	} else {
		dst = append(dst, `,"nlpResponses":[{"responseType":"FALLBACK","paragraphNumber":0,"responseName":"fallback"}`...)
	}
	if u.doc >= 0 {
		dst = append(dst, `,{"responseType":"DOCUMENT","paragraphNumber":`...)
		dst = strconv.AppendInt(dst, int64(u.docPara), 10)
		dst = append(dst, `,"responseName":`...)
		dst = append(dst, m.documents[u.doc]...)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func (m *model) appendTags(dst []byte, c *conv) []byte {
	dst = append(dst, `,"tags":[`...)
	for i := 0; i < c.nTags; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.tagName[c.tags[i]]...)
	}
	return append(dst, ']')
}

// appendConversation appends the conversation record of c; late writes its later update.
func (m *model) appendConversation(dst []byte, c *conv, late bool) []byte {
	t := &m.tenants[c.tenant]
	ended, end, sat, off := c.ended, c.end, c.sat, c.off
	flows := c.flows[:c.nFlows]
	if late {
		if !ended {
			ended, end = true, c.lastAt()
		}
		end += c.late.endShift
		if sat == 0 {
			sat = c.late.sat
		}
		if c.late.human {
			flows = append(flows, flowHuman) // c.flows has room: nFlows <= 4 < maxFlows
		}
		off = c.late.off
	}
	dst = append(dst, t.convHead...)
	dst = append(dst, `,"sessionCode":"`...)
	dst = append(dst, c.session[:c.sessLen]...)
	dst = append(dst, '"')
	switch c.bizKind {
	case 1:
		dst = append(dst, `,"businessKey":"Protocolo `...)
		dst = appendPad(dst, int64(c.bizNum), 4)
		dst = append(dst, '/')
		y, _, _ := civil(c.start / msPerDay)
		dst = strconv.AppendInt(dst, y, 10)
		dst = append(dst, '"')
	case 2:
		dst = append(dst, `,"businessKey":"PEDIDO-`...)
		dst = appendPad(dst, int64(c.bizNum), 5)
		dst = append(dst, '"')
	}
	dst = append(dst, t.channels[c.channel].frag...)
	dst = appendUserID(dst, c.user)
	dst = append(dst, `,"startedAt":"`...)
	dst = appendTime(dst, c.start, int(off))
	dst = append(dst, '"')
	if ended {
		dst = append(dst, `,"endedAt":"`...)
		dst = appendTime(dst, end, int(off))
		dst = append(dst, `","updatedAt":"`...)
		upd := end
		if late {
			upd += c.late.delay
		}
		dst = appendTime(dst, upd, int(off))
		dst = append(dst, '"')
	}
	if sat > 0 {
		dst = append(dst, `,"satisfaction":`...)
		dst = append(dst, byte('0'+sat))
	}
	dst = append(dst, `,"flows":[`...)
	for i, f := range flows {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.flowName[f]...)
	}
	dst = append(dst, ']')
	if c.nTags > 0 {
		dst = m.appendTags(dst, c)
	}
	return append(dst, "}\n"...)
}
