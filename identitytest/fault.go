package identitytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Fault changes how the simulated API responds to one callback request. Queue
// faults with Server.InjectFault; each request takes the oldest one.
type Fault struct {
	// Delay is how long to wait before responding. The wait ends early when
	// the caller cancels the request.
	Delay time.Duration

	// Status, when not zero, replaces the normal response with this status,
	// ContentType and Body. With Status zero the request is served normally
	// after Delay.
	Status      int
	ContentType string      // Content-Type of the replaced response
	Body        []byte      // body of the replaced response
	Header      http.Header // more headers of the replaced response, such as Location
}

// ErrorEnvelope returns a fault that responds with Applivery's error envelope,
// such as ErrorEnvelope(400, 5070, "Saml get profile error").
func ErrorEnvelope(status, code int, message string) Fault {
	body, err := json.Marshal(errorEnvelope(code, message))
	if err != nil {
		panic("identitytest: encoding error envelope: " + err.Error())
	}

	return Fault{Status: status, ContentType: "application/json", Body: body}
}

// StatusOnly returns a fault that responds with status and a plain-text body,
// without Applivery's envelope, as a proxy in front of it might.
func StatusOnly(status int) Fault {
	return Fault{Status: status, ContentType: "text/plain; charset=utf-8", Body: []byte(http.StatusText(status) + "\n")}
}

// MalformedJSON returns a fault that responds 200 with JSON cut short.
func MalformedJSON() Fault {
	return Fault{Status: http.StatusOK, ContentType: "application/json", Body: []byte(`{"status":true,"data":{"accessToken":`)}
}

// OversizedBody returns a fault that responds 200 with a valid JSON document
// of about n bytes.
func OversizedBody(n int) Fault {
	var body bytes.Buffer
	body.WriteString(`{"status":true,"padding":"`)
	body.Write(bytes.Repeat([]byte("x"), max(n-body.Len()-2, 0)))
	body.WriteString(`"}`)

	return Fault{Status: http.StatusOK, ContentType: "application/json", Body: body.Bytes()}
}

// Delay returns a fault that waits d, then responds normally.
func Delay(d time.Duration) Fault {
	return Fault{Delay: d}
}

// RawResponse returns a fault that responds with exactly status, contentType
// and body, such as a response body copied from Applivery's documentation.
func RawResponse(status int, contentType string, body []byte) Fault {
	return Fault{Status: status, ContentType: contentType, Body: bytes.Clone(body)}
}

// Redirect returns a fault that responds 307 Temporary Redirect to location.
// A client that follows it would send the request, API key included, there.
func Redirect(location string) Fault {
	return Fault{
		Status:      http.StatusTemporaryRedirect,
		ContentType: "application/json",
		Body:        []byte(`{}`),
		Header:      http.Header{"Location": {location}},
	}
}

// String describes the fault for test logs.
func (f Fault) String() string {
	if f.Status == 0 {
		return fmt.Sprintf("Fault(delay %s)", f.Delay)
	}

	return fmt.Sprintf("Fault(delay %s, HTTP %d, %s, %d bytes)", f.Delay, f.Status, f.ContentType, len(f.Body))
}

type envelopeJSON struct {
	Status bool `json:"status"`
	Error  struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func errorEnvelope(code int, message string) envelopeJSON {
	var envelope envelopeJSON
	envelope.Error.Code = code
	envelope.Error.Message = message

	return envelope
}
