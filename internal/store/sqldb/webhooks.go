package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/seawall-dev/seawall/internal/store"
)

// Webhooks and their delivery queue.

const webhookCols = `w.id, COALESCE(w.project_id, 0), COALESCE(p.name, ''), w.url, w.secret, w.events, w.disabled, w.created_at, w.created_by`

const webhookFrom = ` FROM webhooks w LEFT JOIN projects p ON p.id = w.project_id`

func scanWebhook(r row) (store.Webhook, error) {
	var h store.Webhook
	var events string
	err := r.Scan(&h.ID, &h.ProjectID, &h.Project, &h.URL, &h.Secret, &events, &h.Disabled, timeScan{&h.CreatedAt}, &h.CreatedBy)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal([]byte(events), &h.Events); err != nil {
		return h, fmt.Errorf("webhook %d events: %w", h.ID, err)
	}
	return h, nil
}

// projectRef is the project_id column's value: NULL for 0.
func projectRef(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (db *DB) CreateWebhook(ctx context.Context, h *store.Webhook) error {
	h.CreatedAt = db.stamp(h.CreatedAt)
	if h.Events == nil {
		h.Events = []string{}
	}
	events, err := json.Marshal(h.Events)
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	err = db.w.row(ctx, `INSERT INTO webhooks (project_id, url, secret, events, disabled, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		projectRef(h.ProjectID), h.URL, h.Secret, string(events), h.Disabled, db.t(h.CreatedAt), h.CreatedBy).Scan(&h.ID)
	if err != nil {
		return fmt.Errorf("create webhook: %w", db.fkNotFound(err, fmt.Sprintf("project %d", h.ProjectID)))
	}
	return nil
}

func (db *DB) Webhook(ctx context.Context, id int64) (*store.Webhook, error) {
	h, err := one(ctx, db, scanWebhook, `SELECT `+webhookCols+webhookFrom+` WHERE w.id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("webhook %d: %w", id, err)
	}
	return h, nil
}

func (db *DB) ListWebhooks(ctx context.Context, projectID int64) ([]store.Webhook, error) {
	var (
		hs  []store.Webhook
		err error
	)
	switch {
	case projectID < 0:
		hs, err = list(ctx, db, scanWebhook, `SELECT `+webhookCols+webhookFrom+` ORDER BY w.id`)
	case projectID == 0:
		hs, err = list(ctx, db, scanWebhook, `SELECT `+webhookCols+webhookFrom+` WHERE w.project_id IS NULL ORDER BY w.id`)
	default:
		hs, err = list(ctx, db, scanWebhook, `SELECT `+webhookCols+webhookFrom+` WHERE w.project_id = ? ORDER BY w.id`, projectID)
	}
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return hs, nil
}

func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	if err := affected(db.w.exec(ctx, `DELETE FROM webhooks WHERE id = ?`, id)); err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, db.err(err))
	}
	return nil
}

const deliveryCols = `id, webhook_id, event, payload, state, attempts, next_attempt, last_status, last_error, created_at, updated_at`

func scanDelivery(r row) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	err := r.Scan(&d.ID, &d.WebhookID, &d.Event, &d.Payload, &d.State, &d.Attempts, timeScan{&d.NextAttempt},
		&d.LastStatus, &d.LastError, timeScan{&d.CreatedAt}, timeScan{&d.UpdatedAt})
	return d, err
}

func (db *DB) EnqueueDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	now := db.stamp(time.Time{})
	err := db.inTx(ctx, func(w runner) error {
		for i := range ds {
			d := &ds[i]
			d.State, d.CreatedAt, d.UpdatedAt = store.DeliveryPending, now, now
			if d.NextAttempt.IsZero() {
				d.NextAttempt = now
			}
			d.NextAttempt = norm(d.NextAttempt)
			err := w.row(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, payload, state, attempts, next_attempt, last_status, last_error, created_at, updated_at)
				VALUES (?, ?, ?, ?, 0, ?, 0, '', ?, ?) RETURNING id`,
				d.WebhookID, d.Event, d.Payload, d.State, db.t(d.NextAttempt), db.t(now), db.t(now)).Scan(&d.ID)
			if err != nil {
				return db.fkNotFound(err, fmt.Sprintf("webhook %d", d.WebhookID))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueue webhook deliveries: %w", err)
	}
	return nil
}

func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, n int) ([]store.WebhookDelivery, error) {
	if n <= 0 {
		return []store.WebhookDelivery{}, nil
	}
	now = norm(now)
	until := norm(now.Add(lease))
	var out []store.WebhookDelivery
	err := db.inTx(ctx, func(w runner) error {
		out = out[:0]
		rows, err := w.rows(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`,
			db.t(now), n)
		if err != nil {
			return err
		}
		var due []store.WebhookDelivery
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range due {
			// Another replica may have claimed it since the select
			// (PostgreSQL, read committed): the condition sees that.
			res, err := w.exec(ctx, `UPDATE webhook_deliveries SET next_attempt = ? WHERE id = ? AND state = 'pending' AND next_attempt <= ?`,
				db.t(until), d.ID, db.t(now))
			if err := affected(res, err); err == store.ErrNotFound {
				continue
			} else if err != nil {
				return err
			}
			d.NextAttempt = until
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", db.err(err))
	}
	if out == nil {
		out = []store.WebhookDelivery{}
	}
	return out, nil
}

func (db *DB) UpdateDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	d.UpdatedAt = db.stamp(d.UpdatedAt)
	d.NextAttempt = norm(d.NextAttempt)
	if d.State != store.DeliveryPending {
		d.NextAttempt = time.Time{} // NULL: off the queue
	}
	next := db.t(d.NextAttempt)
	err := affected(db.w.exec(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt = ?, last_status = ?, last_error = ?, updated_at = ? WHERE id = ?`,
		d.State, d.Attempts, next, d.LastStatus, d.LastError, db.t(d.UpdatedAt), d.ID))
	if err != nil {
		return fmt.Errorf("update webhook delivery %d: %w", d.ID, db.err(err))
	}
	return nil
}

func (db *DB) ListDeliveries(ctx context.Context, webhookID int64, n int) ([]store.WebhookDelivery, error) {
	ds, err := list(ctx, db, scanDelivery, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhookID, limit(n))
	if err != nil {
		return nil, fmt.Errorf("webhook %d deliveries: %w", webhookID, err)
	}
	return ds, nil
}

func (db *DB) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.exec(ctx, `DELETE FROM webhook_deliveries WHERE state <> 'pending' AND updated_at < ?`, db.t(before))
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", db.err(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	return n, nil
}
