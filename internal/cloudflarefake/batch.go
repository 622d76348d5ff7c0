package cloudflarefake

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// batch serves POST /zones/{id}/dns_records/batch: deletes, patches, puts
// and posts, applied in that order, all or nothing.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, zoneID string) {
	var req struct {
		Deletes []struct {
			ID string `json:"id"`
		} `json:"deletes"`
		Patches []input `json:"patches"`
		Puts    []input `json:"puts"`
		Posts   []input `json:"posts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9207, Message: "Request body is invalid."})
		return
	}
	if n := len(req.Deletes) + len(req.Patches) + len(req.Puts) + len(req.Posts); s.batchLimit > 0 && n > s.batchLimit {
		reply(w, http.StatusBadRequest, nil, nil, apiError{Code: 9103, Message: fmt.Sprintf("A batch may change at most %d records; this one changes %d.", s.batchLimit, n)})
		return
	}
	saved, savedID := map[string]*Record{}, s.nextID
	for k, v := range s.records {
		c := v.clone()
		saved[k] = &c
	}
	undo := func(e apiError) {
		s.records, s.nextID = saved, savedID
		reply(w, http.StatusBadRequest, nil, nil, e)
	}
	result := map[string][]Record{"deletes": {}, "patches": {}, "puts": {}, "posts": {}}
	for _, d := range req.Deletes {
		rec, ok := s.records[d.ID]
		if !ok || rec.ZoneID != zoneID {
			undo(apiError{Code: 81044, Message: "Record does not exist."})
			return
		}
		delete(s.records, d.ID)
		result["deletes"] = append(result["deletes"], rec.clone())
	}
	for _, op := range []struct {
		key   string
		ins   []input
		whole bool
	}{{"patches", req.Patches, false}, {"puts", req.Puts, true}} {
		for _, in := range op.ins {
			old, ok := s.records[in.ID]
			if !ok || old.ZoneID != zoneID {
				undo(apiError{Code: 81044, Message: "Record does not exist."})
				return
			}
			rec, e := s.build(old.clone(), in, op.whole)
			if e != nil {
				undo(*e)
				return
			}
			s.records[rec.ID] = &rec
			result[op.key] = append(result[op.key], rec.clone())
		}
	}
	for _, in := range req.Posts {
		rec, e := s.build(Record{ZoneID: zoneID}, in, true)
		if e != nil {
			undo(*e)
			return
		}
		result["posts"] = append(result["posts"], s.create(rec).clone())
	}
	reply(w, http.StatusOK, result, nil)
}
