package report

// headers is the catalog of column headers, one entry per column key: Russian first,
// then English. It is the one place the texts live, so the i18n work can move them
// to .po files unchanged.
var headers = map[string][2]string{
	// call list
	"id":                        {"ID", "ID"},
	"start":                     {"Дата", "Date"},
	"answered":                  {"Ответ", "Answered at"},
	"end":                       {"Окончание", "Ended at"},
	"type":                      {"Тип звонка", "Call type"},
	"caller_number":             {"Звонивший", "Caller"},
	"caller_name":               {"Имя звонившего", "Caller name"},
	"queues":                    {"Очередь", "Queue"},
	"dialed":                    {"Набранный номер", "Dialed number"},
	"callee_number":             {"Вызываемый", "Callee"},
	"callee_name":               {"Имя вызываемого", "Callee name"},
	"answered_by_number":        {"Ответил", "Answered by"},
	"answered_by_name":          {"Имя ответившего", "Answered by (name)"},
	"hangup_by":                 {"Положил трубку", "Hung up"},
	"wait_seconds":              {"Вр. ожидания", "Wait time"},
	"talk_seconds":              {"Вр. разговора", "Talk time"},
	"talk_without_hold_seconds": {"Вр. разговора без удерж.", "Talk time without hold"},
	"hold_seconds":              {"Вр. удержания", "Hold time"},
	"status":                    {"Статус", "Status"},
	"missed_reason":             {"Причина пропуска", "Missed reason"},
	"missed_by_operators":       {"Упущен операторами", "Missed by operators"},
	"missed_in_queues":          {"Упущен в очередях", "Missed in queues"},
	"transferred":               {"Переведён", "Transferred"},
	"recordings":                {"Запись", "Recording"},
	"linkedid":                  {"linkedid", "linkedid"},
	"parent_linkedid":           {"Родительский linkedid", "Parent linkedid"},
	"server":                    {"Сервер", "Server"},
	"trunk":                     {"Линия", "Trunk"},
	"answered_by_device":        {"Устройство", "Device"},
	"incomplete":                {"Неполный", "Incomplete"},
	"approximate_times":         {"Время приблизительно", "Approximate times"},
	// summary
	"bucket":           {"Период", "Period"},
	"split":            {"Срез", "Split"},
	"inbound_answered": {"Внеш. входящие: отвеченные", "External incoming: answered"},
	"inbound_missed":   {"Внеш. входящие: упущенные", "External incoming: missed"},
	"abandoned":        {"Брошенные", "Abandoned"},
	"outbound":         {"Исходящие", "Outgoing"},
	"internal":         {"Внутренние", "Internal"},
	"service_level":    {"Ур. обслуж., %", "Service level, %"},
	"average_wait":     {"Ср. вр. ожидания", "Average wait"},
	"longest_wait":     {"Макс. вр. ожидания", "Longest wait"},
	"average_talk":     {"Ср. вр. разговора", "Average talk"},
	"abandon_rate":     {"Доля брошенных, %", "Abandon rate, %"},
	"total":            {"Итого", "Total"},
	// operators
	"number":       {"Номер", "Number"},
	"name":         {"ФИО", "Name"},
	"op_answered":  {"Принятые", "Answered"},
	"op_missed":    {"Пропущенные", "Missed"},
	"talk_total":   {"Вр. разговора всего", "Talk time total"},
	"hold_total":   {"Вр. удержания всего", "Hold time total"},
	"average_hold": {"Ср. вр. удержания", "Average hold"},
	"logged_in":    {"В системе", "Logged in"},
	"paused":       {"На паузе", "Paused"},
	"occupancy":    {"Занятость, %", "Occupancy, %"},
	// queues
	"received":     {"Поступило", "Received"},
	"q_answered":   {"Отвечено", "Answered"},
	"unanswered":   {"Не отвечено (иное)", "Unanswered (other)"},
	"asa":          {"Ср. скорость ответа", "Average speed of answer"},
	"sl_threshold": {"Порог ур. обслуж., с", "Service level threshold, s"},
	"wait_bucket":  {"Ожидание %s: отвечено/брошено", "Wait %s: answered/abandoned"},
	// values
	"yes": {"да", "yes"},
	"no":  {"нет", "no"},
}

// Lang is a catalog language.
type Lang int

// The languages.
const (
	LangRU Lang = iota
	LangEN
)

// ParseLang maps "en" to English and anything else to Russian (the default).
func ParseLang(s string) Lang {
	if len(s) >= 2 && (s[:2] == "en" || s[:2] == "EN") {
		return LangEN
	}
	return LangRU
}

// T returns key's text in lang, or the key itself.
func T(lang Lang, key string) string {
	if h, ok := headers[key]; ok {
		return h[lang]
	}
	return key
}
