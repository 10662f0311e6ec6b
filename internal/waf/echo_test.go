package waf_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
)

// echoBackend is the upstream for end-to-end tests. /reflect answers as
// the CRS test backend (albedo) does: the request body is a JSON
// description of the response to send. Every other path reads the body and
// answers "Hello!".
func echoBackend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/reflect" {
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("X-Echo-Request-ID", r.Header.Get("X-Request-ID"))
			w.Header().Set("X-Echo-Forwarded-For", r.Header.Get("X-Forwarded-For"))
			io.WriteString(w, "Hello!")
			return
		}
		var spec struct {
			Status      int               `json:"status"`
			Headers     map[string]string `json:"headers"`
			Body        string            `json:"body"`
			EncodedBody string            `json:"encodedBody"`
		}
		if err := json.Unmarshal(body, &spec); err != nil {
			http.Error(w, "invalid JSON in request body", http.StatusBadRequest)
			return
		}
		for k, v := range spec.Headers {
			w.Header().Add(k, v)
		}
		if spec.Status > 0 && spec.Status < 100 || spec.Status >= 600 {
			http.Error(w, "invalid status", http.StatusBadRequest)
			return
		}
		if spec.Status == 0 {
			spec.Status = http.StatusOK
		}
		out := []byte(spec.Body)
		if spec.Body == "" && spec.EncodedBody != "" {
			b, err := base64.StdEncoding.DecodeString(spec.EncodedBody)
			if err != nil {
				http.Error(w, "invalid base64 body", http.StatusBadRequest)
				return
			}
			out = b
		}
		w.WriteHeader(spec.Status)
		w.Write(out)
	})
}
