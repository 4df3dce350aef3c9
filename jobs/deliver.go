package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/coop-exchange/coop/domain"
)

// OutboxStore is what the deliverer reads and writes.
type OutboxStore interface {
	// ClaimOutbox takes up to limit messages due at now, with a lease until now+lease.
	ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]domain.OutboxMessage, error)
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// RetryDelivery records a failed attempt, to be tried again at next.
	RetryDelivery(ctx context.Context, id int64, lastErr string, next, at time.Time) error
	// FailDelivery gives up on a message and leaves the coordinators the notice, together.
	FailDelivery(ctx context.Context, id int64, lastErr string, at time.Time, notice domain.Notice) error
}

// Sender delivers one outbox message over its channel: email (email.Sender) or webhook
// (WebhookSender). An error whose chain has a Permanent() bool method returning true
// means trying again will not help, and the message fails at once.
type Sender interface {
	Send(ctx context.Context, m domain.OutboxMessage) error
}

// DeliverSchedule is when the deliverer looks for messages that are due.
const DeliverSchedule = "@every 10s"

// How the deliverer works through the outbox. A run claims batches until none is left (at most
// deliverRounds), sending one message at a time; the lease outlasts a whole batch of sends that
// each take their full timeout, so that no other deliverer takes a message while it is being sent.
const (
	deliverBatch   = 20
	deliverRounds  = 5
	sendTimeout    = 20 * time.Second
	deliverLease   = deliverBatch*sendTimeout + time.Minute
	firstRetry     = 30 * time.Second
	longestRetry   = time.Hour
	retryJitter    = 0.2 // each wait is up to 20% shorter or longer, so that retries spread out
	maxErrorLength = 500
)

// DeliveryReport counts what one run did.
type DeliveryReport struct {
	Delivered int // sent
	Retried   int // failed, to be tried again later
	Failed    int // given up on; the coordinators have a notice
}

// Deliverer sends what the outbox holds, retrying failures with exponential backoff and jitter
// for domain.DeliveryGiveUp, then giving up and telling the coordinators. Several deliverers
// (processes) may run at once: each message is claimed by one of them at a time.
type Deliverer struct {
	store   OutboxStore
	senders map[domain.Channel]Sender
	now     func() time.Time
	random  func() float64
	log     *slog.Logger
}

// NewDeliverer returns a deliverer that sends each channel's messages with its sender. now is
// its clock and random a source of numbers in [0, 1) for the jitter; nil for the real ones.
func NewDeliverer(store OutboxStore, senders map[domain.Channel]Sender, now func() time.Time, random func() float64, log *slog.Logger) *Deliverer {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Float64
	}
	return &Deliverer{store: store, senders: senders, now: now, random: random, log: log}
}

// DeliverJob is the scheduled job: deliver what is due.
func DeliverJob(d *Deliverer) Job {
	return func(ctx context.Context) error {
		_, err := d.Deliver(ctx)
		return err
	}
}

// Deliver sends the messages that are due now and records how each went.
func (d *Deliverer) Deliver(ctx context.Context) (DeliveryReport, error) {
	var rep DeliveryReport
	for range deliverRounds {
		claimedAt := d.now().UTC()
		batch, err := d.store.ClaimOutbox(ctx, claimedAt, deliverLease, deliverBatch)
		if err != nil {
			return rep, fmt.Errorf("deliver: %w", err)
		}
		for _, m := range batch {
			if ctx.Err() != nil {
				return rep, ctx.Err() // the rest are claimed until the lease runs out, then retried
			}
			if err := d.deliverOne(ctx, m, &rep); err != nil {
				return rep, fmt.Errorf("deliver: %w", err)
			}
		}
		if len(batch) < deliverBatch {
			break
		}
	}
	if rep != (DeliveryReport{}) {
		d.log.Info("outbox delivered", "delivered", rep.Delivered, "retried", rep.Retried, "failed", rep.Failed)
	}
	return rep, nil
}

// deliverOne sends one message and records the outcome; the error is the store's, not the send's.
func (d *Deliverer) deliverOne(ctx context.Context, m domain.OutboxMessage, rep *DeliveryReport) error {
	sendErr := d.send(ctx, m)
	now := d.now().UTC()
	if sendErr == nil {
		rep.Delivered++
		return d.store.MarkDelivered(ctx, m.ID, now)
	}
	msg := sendErr.Error()
	if len(msg) > maxErrorLength {
		msg = msg[:maxErrorLength] + "..."
	}
	log := d.log.With("outbox_id", m.ID, "channel", m.Channel, "kind", m.Kind, "attempts", m.Attempts+1, "err", msg)
	if permanent(sendErr) || !now.Before(m.CreatedAt.Add(domain.DeliveryGiveUp)) {
		rep.Failed++
		log.Warn("outbox message failed: giving up")
		return d.store.FailDelivery(ctx, m.ID, msg, now, failureNotice(m, msg))
	}
	next := now.Add(d.backoff(m.Attempts))
	rep.Retried++
	log.Info("outbox message not delivered: will try again", "next_attempt_at", next)
	return d.store.RetryDelivery(ctx, m.ID, msg, next, now)
}

func (d *Deliverer) send(ctx context.Context, m domain.OutboxMessage) error {
	sender, ok := d.senders[m.Channel]
	if !ok {
		return fmt.Errorf("no sender for the %s channel is configured", m.Channel)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	return sender.Send(ctx, m)
}

// backoff is how long to wait after a message's (failed+1)th failed attempt: 30 seconds, doubling
// each time up to an hour, made up to 20% shorter or longer at random.
func (d *Deliverer) backoff(failed int) time.Duration {
	wait := longestRetry
	if failed < 16 {
		wait = min(firstRetry<<failed, longestRetry)
	}
	factor := 1 - retryJitter + 2*retryJitter*d.random()
	return time.Duration(float64(wait) * factor)
}

// permanent reports whether a sender said that trying again will not help.
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// failureNotice tells the coordinators about a message given up on, in words they can act on.
func failureNotice(m domain.OutboxMessage, lastErr string) domain.Notice {
	n := domain.Notice{Kind: domain.NoticeDeliveryFailed}
	switch m.Channel {
	case domain.ChannelEmail:
		if m.MemberID == 0 && m.ServiceID != 0 {
			return serviceEmailFailureNotice(m, lastErr)
		}
		var p domain.EmailPayload
		_ = json.Unmarshal(m.Payload, &p) // the name only makes the notice read better
		who := m.Recipient
		if p.Name != "" {
			who = p.Name + " (" + m.Recipient + ")"
		}
		n.Message = fmt.Sprintf("We could not send an email to %s about %s, so we have stopped trying. "+
			"The last error was: %s. Please check their email address, or get in touch another way.", who, emailAbout(m.Kind), lastErr)
		if m.MemberID != 0 {
			n.Link = fmt.Sprintf("/coordinate/members/%d", m.MemberID)
		}
	case domain.ChannelWebhook:
		var b domain.WebhookBody
		_ = json.Unmarshal(m.Payload, &b) // the escalation only makes the notice read better
		n.Message = fmt.Sprintf("We could not tell formal service %d, at %s, about escalation %d (%s, now %s), so we have stopped trying. "+
			"The last error was: %s. Please check the service's webhook address, or tell them another way.",
			m.ServiceID, m.Recipient, b.EscalationID, m.Kind, b.Status, lastErr)
	default:
		n.Message = fmt.Sprintf("We could not deliver a %s message (%s) to %s, so we have stopped trying. The last error was: %s.",
			m.Channel, m.Kind, m.Recipient, lastErr)
	}
	return n
}

// serviceEmailFailureNotice tells the coordinators that a formal service with no webhook was not
// told of an escalation by email: the service may not know of the need at all.
func serviceEmailFailureNotice(m domain.OutboxMessage, lastErr string) domain.Notice {
	var p domain.EmailPayload
	_ = json.Unmarshal(m.Payload, &p) // the service's name and escalation only make the notice read better
	who := fmt.Sprintf("formal service %d", m.ServiceID)
	if name := p.Data[domain.EmailDataService]; name != "" {
		who = name
	}
	ref := ""
	if id := p.Data[domain.EmailDataEscalation]; id != "" {
		ref = " (escalation " + id + ")"
	}
	var what string
	switch m.Kind {
	case domain.WebhookEscalationRequested:
		what = "that the co-op has passed them a need" + ref
	case domain.WebhookEscalationCancelled:
		what = "that the need the co-op passed them" + ref + " has been withdrawn"
	default:
		what = "that the need the co-op passed them" + ref + " was updated"
	}
	return domain.Notice{Kind: domain.NoticeDeliveryFailed, Link: fmt.Sprintf("/coordinate/services/%d", m.ServiceID),
		Message: fmt.Sprintf("We could not email %s, at %s, to tell them %s, so we have stopped trying. "+
			"The last error was: %s. They may not know: please check the service's escalation email address, or tell them another way.",
			who, m.Recipient, what, lastErr)}
}

// emailAbout names a kind of email in a sentence.
func emailAbout(kind string) string {
	for _, k := range domain.EmailKinds {
		if k.Kind == kind {
			return "“" + k.Label + "”"
		}
	}
	return kind
}
