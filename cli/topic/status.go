package topic

import (
	"os"

	"github.com/ailurus/ailurus/cli/out"
)

// topicStatus is one topic's outcome of a verb that changes topics.
type topicStatus struct {
	Topic  string `json:"topic"`
	Status string `json:"status"` // "OK" or what went wrong
	failed bool
}

// ok and failedStatus build a topicStatus.
func ok(topic string) topicStatus { return topicStatus{Topic: topic, Status: "OK"} }

func failedStatus(topic string, err error) topicStatus {
	return topicStatus{Topic: topic, Status: err.Error(), failed: true}
}

// printStatuses prints the outcomes as a table (or JSON with --format json)
// and returns an ErrPartial error naming the failures, if any; what says
// what did not happen to them ("topics not deleted").
func (s *shared) printStatuses(rows []topicStatus, what string) error {
	var failed []string
	for _, r := range rows {
		if r.failed {
			failed = append(failed, r.Status)
		}
	}
	if s.format.JSON() {
		if err := out.WriteJSON(os.Stdout, rows); err != nil {
			return err
		}
	} else {
		t := out.NewTable(os.Stdout, "topic", "status")
		for _, r := range rows {
			t.Row(r.Topic, r.Status)
		}
		t.Flush()
	}
	if len(failed) > 0 {
		return partial(what, failed, len(rows))
	}
	return nil
}
