// Package backup moves snapshots of service files off-site with rclone (Google storage among its
// remotes): incremental snapshots with a manifest recording ownership and permissions that the
// remote itself may not keep, retention, verification and restore.
//
// The content of this package arrives with its own issue; for now it states the scope.
package backup
