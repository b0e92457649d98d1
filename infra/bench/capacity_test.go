package bench

import (
	"encoding/json"
	"strings"
	"testing"
)

func item(t *testing.T, js string) Item {
	t.Helper()
	var it Item
	if err := json.Unmarshal([]byte(js), &it); err != nil {
		t.Fatal(err)
	}
	return it
}

func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item string
		want int
	}{
		{"string", `{"pk":{"S":"abc"}}`, 2 + 3},
		{"utf-8 string counts bytes", `{"n":{"S":"héllo"}}`, 1 + 6},
		{"number: 1 byte + 1 per two significant digits", `{"n":{"N":"12345"}}`, 1 + 1 + 3},
		{"number: zeros and sign are not significant", `{"n":{"N":"-000120.500"}}`, 1 + 1 + 2},
		{"binary counts decoded bytes", `{"b":{"B":"AAECAw=="}}`, 1 + 4},
		{"bool and null", `{"t":{"BOOL":true},"z":{"NULL":true}}`, 1 + 1 + 1 + 1},
		{"string set", `{"ss":{"SS":["ab","cde"]}}`, 2 + 5},
		{"list: 3 + 1 per element + elements", `{"l":{"L":[{"S":"ab"},{"N":"1"}]}}`, 1 + 3 + 2 + 2 + 2},
		{"map: names count too", `{"m":{"M":{"k":{"S":"v"},"kk":{"BOOL":false}}}}`, 1 + 3 + 2 + (1 + 1) + (2 + 1)},
		{"several attributes", `{"pk":{"S":"o_1"},"amount":{"N":"25000"},"status":{"S":"PAID"}}`, (2 + 3) + (6 + 2) + (6 + 4)}, // 25000: two significant digits,
		{"unknown type counts nothing", `{"x":{"Q":"?"}}`, 1},
	}
	for _, tt := range tests {
		if got := ItemSize(item(t, tt.item)); got != tt.want {
			t.Errorf("%s: ItemSize(%s) = %d, want %d", tt.name, tt.item, got, tt.want)
		}
	}
}

func TestUnits(t *testing.T) {
	writes := []struct {
		size int
		tx   bool
		want float64
	}{
		{0, false, 1}, {1, false, 1}, {1024, false, 1}, {1025, false, 2}, {3000, false, 3},
		{3000, true, 6}, {100, true, 2}, {5000, true, 10},
	}
	for _, w := range writes {
		if got := WriteUnits(w.size, w.tx); got != w.want {
			t.Errorf("WriteUnits(%d, %v) = %v, want %v", w.size, w.tx, got, w.want)
		}
	}
	reads := []struct {
		size           int
		consistent, tx bool
		want           float64
	}{
		{0, false, false, 0.5}, {0, true, false, 1}, {4096, false, false, 0.5}, {4097, false, false, 1},
		{5000, true, false, 2}, {5000, false, true, 4}, {12000, false, false, 1.5},
	}
	for _, r := range reads {
		if got := ReadUnits(r.size, r.consistent, r.tx); got != r.want {
			t.Errorf("ReadUnits(%d, consistent %v, tx %v) = %v, want %v", r.size, r.consistent, r.tx, got, r.want)
		}
	}
}

func TestIndexWriteUnits(t *testing.T) {
	orders := Schema{Keys: []string{"orderId"}, Indexes: []Index{
		{Name: "byBuyer", Keys: []string{"buyerId", "createdAt"}, Projection: "ALL"},
		{Name: "byStatusDeadline", Keys: []string{"status", "deadline"}, Projection: "KEYS_ONLY"},
	}}
	big := strings.Repeat("x", 1500)
	pending := `{"orderId":{"S":"o_1"},"buyerId":{"S":"b"},"createdAt":{"S":"t"},"status":{"S":"PENDING_PAYMENT"},"deadline":{"S":"d"},"lines":{"S":"` + big + `"}}`
	paid := strings.Replace(pending, "PENDING_PAYMENT", "PAID", 1)
	note := strings.Replace(pending, `"lines"`, `"note":{"S":"n"},"lines"`, 1)
	noBuyer := `{"orderId":{"S":"o_1"},"status":{"S":"PENDING_PAYMENT"},"deadline":{"S":"d"}}`
	tests := []struct {
		name          string
		before, after string
		want          float64
	}{
		{"new item: one write per index", "", pending, 2 + 1},
		{"deleted item: one write per index", pending, "", 2 + 1},
		{"index key changes: delete and put there, one write where only projected attributes change", pending, paid, 2 + (1 + 1)},
		{"a projected attribute changes: ALL index only", pending, note, 2},
		{"nothing an index holds changes", pending, pending, 0},
		{"sparse: an item without the index key is not in it", "", noBuyer, 1},
	}
	for _, tt := range tests {
		var b, a Item
		if tt.before != "" {
			b = item(t, tt.before)
		}
		if tt.after != "" {
			a = item(t, tt.after)
		}
		if got := orders.IndexWriteUnits(b, a); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSQSBilledRequests(t *testing.T) {
	for _, tt := range []struct{ payload, want int }{{0, 1}, {100, 1}, {64 << 10, 1}, {64<<10 + 1, 2}, {256 << 10, 4}} {
		if got := SQSBilledRequests(tt.payload); got != tt.want {
			t.Errorf("SQSBilledRequests(%d) = %d, want %d", tt.payload, got, tt.want)
		}
	}
}
