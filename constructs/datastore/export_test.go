package datastore

// The timing the tests check, which is not API.
const (
	TotalTimeoutMinutes   = totalTimeoutMinutes
	ServiceTimeoutSeconds = serviceTimeoutSeconds
)
