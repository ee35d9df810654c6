package scenario

import (
	"time"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// WritesBy returns the write requests (create, update, patch, delete) the
// API server's audit log recorded for user at or after since, oldest first.
func (c *Cluster) WritesBy(user string, since time.Time) ([]testcluster.AuditEvent, error) {
	return c.AuditEvents(func(e testcluster.AuditEvent) bool {
		return e.IsWrite() && e.User.Username == user && !e.StageTimestamp.Time.Before(since)
	})
}

// RequestsBy returns every request, reads included, the audit log recorded
// for user at or after since, oldest first.
func (c *Cluster) RequestsBy(user string, since time.Time) ([]testcluster.AuditEvent, error) {
	return c.AuditEvents(func(e testcluster.AuditEvent) bool {
		return e.User.Username == user && !e.StageTimestamp.Time.Before(since)
	})
}
