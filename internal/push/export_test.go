package push

import "context"

// SeqOf exposes the resume index to tests, once Run has loaded it.
func SeqOf(h *Hub, id string) (int64, bool) {
	h.waitReady(context.Background())
	return h.seqOf(id)
}
