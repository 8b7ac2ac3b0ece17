package generate

// The demo content: channel types, flows, intents and the Portuguese texts of both sides.
// Strings are written to JSON once, when the model is built (see model.go).

type channelType struct {
	id        int
	name      string
	image     string
	classID   int
	className string
	short     string // used in channel names: "<short> <purpose>"
	session   string // sessionCode prefix
	wamid     bool   // message ids look like WhatsApp's "wamid.…" (else UUIDs)
	weight    float64
}

var channelTypes = []channelType{
	{1, "WhatsApp", "https://cdn.example.com/channels/whatsapp.svg", 1, "Messaging", "WhatsApp", "wa", true, 0.45},
	{2, "Web Chat", "https://cdn.example.com/channels/webchat.svg", 2, "Web", "Chat do Site", "web", false, 0.22},
	{3, "Telegram", "https://cdn.example.com/channels/telegram.svg", 1, "Messaging", "Telegram", "tg", false, 0.08},
	{4, "Facebook Messenger", "https://cdn.example.com/channels/messenger.svg", 3, "Social", "Messenger", "fb", false, 0.10},
	{5, "Instagram", "https://cdn.example.com/channels/instagram.svg", 3, "Social", "Instagram", "ig", false, 0.10},
	{6, "Microsoft Teams", "https://cdn.example.com/channels/teams.svg", 4, "Enterprise", "Teams", "ms", false, 0.05},
}

// channelPurposes name the channels of a bot: "WhatsApp Vendas" / "Canal de vendas".
var channelPurposes = []struct{ name, description string }{
	{"Vendas", "Canal de vendas"},
	{"Suporte", "Suporte técnico"},
	{"Atendimento", "Atendimento geral"},
	{"Cobrança", "Negociação de débitos e 2ª via"},
	{"SAC", "Serviço de atendimento ao consumidor"},
	{"Promoções", "Campanhas e ofertas"},
}

var flowNames = []string{
	"Boas-vindas",        // 0
	"Faturamento",        // 1
	"Suporte Técnico",    // 2
	"Vendas",             // 3
	"Atendimento Humano", // 4
	"Cancelamento",       // 5
	"Cadastro",           // 6
}

const (
	flowWelcome = 0
	flowHuman   = 4
)

// intent is a topic the NLP recognises, the flow it lives in, what users say and what the bot answers.
type intent struct {
	name   string
	flow   int
	texts  []string
	answer string // answerName of the first reply
	reply  string // content of the first reply
	typ    int    // message type of the first reply
	button int    // button set of the first reply, -1 none
}

const (
	typeText = iota
	typeButtons
	typeCarousel
	typeImage
	typeFile
)

var messageTypes = []string{"TEXT", "BUTTONS", "CAROUSEL", "IMAGE", "FILE"}

var intents = []intent{
	{"saudacao", 0, []string{"Olá, bom dia!", "oi", "Boa tarde, tudo bem?", "OLÁ, BOM DIA!"},
		"saudacao_inicial", "Olá! Sou a Lia, assistente virtual. Como posso ajudar?", typeButtons, buttonsMenu},
	{"consultar_fatura", 1, []string{"Qual o valor da minha fatura?", "quero ver minha conta deste mês", "Minha fatura veio mais alta, por quê?"},
		"resp_fatura", "Sua fatura de R$ 89,90 \"referente a janeiro\" vence dia 10.", typeText, -1},
	{"segunda_via_boleto", 1, []string{"Quero a segunda via do boleto, por favor", "2ª via da conta", "preciso do boleto atualizado"},
		"resp_segunda_via", "Claro! Aqui está a segunda via: https://ex.com/b/123?x=1&y=2", typeText, -1},
	{"falar_com_atendente", 4, []string{"quero falar com um atendente humano", "Atendente, por favor!!", "me transfere pra uma pessoa"},
		"transbordo", "Vou transferir você para um atendente. Aguarde um instante.", typeText, -1},
	{"cancelar_plano", 5, []string{"Quero cancelar meu plano", "como faço pra cancelar?", "cancelar"},
		"resp_cancelamento", "Que pena! Antes de cancelar, posso oferecer 30% de desconto por 3 meses?", typeButtons, buttonsYesNo},
	{"horario_funcionamento", 0, []string{"Qual o horário de funcionamento?", "vocês abrem no sábado?"},
		"resp_horario", "Nosso horário é de 8h às 18h, de segunda a sexta.", typeText, -1},
	{"problema_internet", 2, []string{"Minha internet caiu 😡", "a conexão está muito lenta desde ontem", "O modem está piscando vermelho.\nJá reiniciei duas vezes."},
		"resp_suporte_internet", "Vamos resolver! Desligue o modem por 30 segundos e ligue novamente.", typeText, -1},
	{"agradecimento", 0, []string{"Obrigado!", "valeu, ajudou muito 👍", "obg"},
		"resp_agradecimento", "Eu que agradeço! 😊", typeText, -1},
	{"contratar_plano", 3, []string{"Quero contratar a fibra de 500 mega", "quais planos vocês têm?"},
		"resp_planos", "", typeCarousel, buttonsPlans},
	{"alterar_endereco", 6, []string{"Mudei de endereço, como atualizo?", "Segue o novo endereço:\u2028Rua das Flores, 123 - apto 42"},
		"resp_endereco", "Para atualizar o endereço, informe o CEP do novo endereço.", typeText, -1},
	{"negociar_divida", 1, []string{"Estou com contas atrasadas, dá pra parcelar?", "quero negociar minha dívida"},
		"resp_negociacao", "Encontrei 2 faturas em aberto. Posso parcelar em até 6x sem juros.", typeButtons, buttonsYesNo},
	{"status_pedido", 3, []string{"Meu pedido ainda não chegou", "qual o status da instalação?"},
		"resp_status_pedido", "Seu pedido está \"em rota de entrega\" e chega até amanhã.", typeText, -1},
	{"reclamacao", 2, []string{"Ele disse \"não\" e desligou, o que faço?", "Já liguei 5 vezes e ninguém resolve!!!"},
		"resp_reclamacao", "Sinto muito pelo transtorno. Registrei sua reclamação com prioridade.", typeText, -1},
	{"portabilidade", 3, []string{"Quero trazer meu número de outra operadora", "como funciona a portabilidade?"},
		"resp_portabilidade", "A portabilidade leva até 3 dias úteis. Vamos começar?", typeButtons, buttonsYesNo},
	{"despedida", 0, []string{"tchau", "até mais"},
		"encerramento", "Até logo! Se precisar, é só chamar.", typeText, -1},
}

const (
	intentGreeting = 0
	intentThanks   = 7
	intentGoodbye  = 14
)

// noiseTexts are what users write that the NLP does not understand.
var noiseTexts = []string{
	"asdfgh", "??", "hmm", "kkkkkk", "aquilo que falei ontem", "meu CPF é 123.456.789-00, pode verificar?",
	"tab\tseparado\tpor\ttab", "é sobre o negócio lá", "🤔", "sim", "não sei", "C:\\Users\\cliente\\fatura.pdf",
}

// Fallback and follow-up replies.
const (
	fallbackAnswer = "fallback"
	fallbackText   = "Desculpe, não entendi. Pode reformular?"
	menuAnswer     = "menu_principal"
	menuText       = "Posso ajudar em algo mais?"
	carouselAnswer = "carrossel_planos"
	imageAnswer    = "promo_banner"
	imageURL       = "https://cdn.example.com/img/promo-fibra.png"
	fileAnswer     = "envio_documento"
	fileURL        = "https://ex.com/docs/contrato-servico.pdf"
)

var documents = []string{"Manual do Cliente.pdf", "Tabela de Preços 2026.pdf", "Política de Privacidade.pdf", "Contrato de Serviço.pdf", "FAQ Faturamento.pdf"}

var entityNames = []string{"plano", "valor", "endereço", "data", "cpf"}

var tagNames = []string{"vip", "b2b", "retorno", "novo_cliente", "reclamacao"}

type button struct{ name, value, action string }

const (
	buttonsMenu = iota
	buttonsYesNo
	buttonsPlans
	buttonsSite
)

var buttonSets = [][]button{
	buttonsMenu:  {{"2ª via", "segunda_via", "postback"}, {"Falar com atendente", "humano", "postback"}, {"Menu \"principal\"", "menu", "postback"}},
	buttonsYesNo: {{"Sim", "sim", "postback"}, {"Não", "nao", "postback"}},
	buttonsPlans: {{"Fibra 300 Mega", "plano_300", "postback"}, {"Fibra 500 Mega", "plano_500", "postback"}, {"Fibra 1 Giga", "plano_1000", "postback"}},
	buttonsSite:  {{"Abrir site", "https://ex.com/fatura", "url"}},
}

// UTC offsets (minutes) some lines are written in; the instant is the same.
var offsets = []int{-180, -300, -240, 60, 180, 330, 540}

// hourWeights is the diurnal curve (UTC): low 02–07, peaks 10–12 and 19–21.
var hourWeights = [24]float64{
	0.45, 0.30, 0.15, 0.10, 0.08, 0.09, 0.14, 0.28, // 00–07
	0.60, 0.85, 1.00, 1.00, 0.95, 0.85, 0.80, 0.80, // 08–15
	0.78, 0.78, 0.85, 0.97, 1.00, 0.97, 0.80, 0.60, // 16–23
}

// weekdayWeights by time.Weekday (Sunday first): weekends ~60% of weekdays.
var weekdayWeights = [7]float64{0.58, 1.05, 1.00, 1.00, 1.00, 0.95, 0.62}
