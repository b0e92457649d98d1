package promotion

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/etalase/etalase/shared/platform/ident"
	"github.com/etalase/etalase/shared/social/commission"
)

// Limits of promotion fields.
const (
	// MaxCaptionRunes bounds the caption.
	MaxCaptionRunes = 500
	// MaxMediaURLLength bounds the media URL.
	MaxMediaURLLength = 2048
	// MinWindow and MaxWindow bound endsAt - startsAt.
	MinWindow = 5 * time.Minute
	MaxWindow = 366 * 24 * time.Hour
	// MaxStartDelay bounds how far ahead a promotion may be scheduled.
	MaxStartDelay = 90 * 24 * time.Hour
	// StartSkew is how far in the past startsAt may be (client clock skew); an earlier
	// start is moved to now.
	StartSkew = 5 * time.Minute
)

// Kind is how a creator promotes a product.
type Kind string

// Promotion kinds.
const (
	// KindVideo: a product showcase in a short video.
	KindVideo Kind = "video"
	// KindLive: a product pinned in a live stream.
	KindLive Kind = "live"
	// KindShowcase: the creator's storefront shelf.
	KindShowcase Kind = "showcase"
)

// Kinds lists the kinds, for documentation and error messages.
var Kinds = []Kind{KindVideo, KindLive, KindShowcase}

// Status is the creator's switch of a promotion.
type Status string

// Promotion statuses: ACTIVE ⇄ PAUSED → ENDED; ENDED is final.
const (
	StatusActive Status = "ACTIVE"
	StatusPaused Status = "PAUSED"
	StatusEnded  Status = "ENDED"
)

// State is what a viewer sees of a promotion at a moment: its status combined with its
// time window.
type State string

// Promotion states.
const (
	// StateScheduled: active, but its window has not started.
	StateScheduled State = "SCHEDULED"
	// StateLive: active and inside its window: in the feed, hand-offs are issued.
	StateLive State = "LIVE"
	// StatePaused: paused by its creator.
	StatePaused State = "PAUSED"
	// StateExpired: active or paused, but its window is over.
	StateExpired State = "EXPIRED"
	// StateEnded: ended by its creator, or because the product was delisted.
	StateEnded State = "ENDED"
)

// End reasons.
const (
	// EndedByCreator: the creator ended it.
	EndedByCreator = "creator"
	// EndedProductDelisted: commerce delisted the product.
	EndedProductDelisted = "product_delisted"
)

// Promotion is a creator's promotion of one product.
type Promotion struct {
	// ID is random and unguessable: "pr_" and 26 base32 characters (128 bits).
	ID string
	// CreatorID is the creator's user id (the token's subject).
	CreatorID string
	// ProductID is commerce's product id; social has a snapshot of it.
	ProductID string
	// Kind is video, live or showcase.
	Kind Kind
	// Caption is the creator's text; may be empty.
	Caption string
	// MediaURL is the video or live stream (https URL or storefront path); required for
	// video and live.
	MediaURL string
	// CommissionBps is the commission rate in basis points, fixed at creation so that
	// the rate of every sale is the rate the promotion had then (commission package).
	CommissionBps int
	// Currency is the product's display currency at creation, which keys its stats.
	Currency string
	// StartsAt and EndsAt are the window in which the promotion is live.
	StartsAt, EndsAt time.Time
	// Status is ACTIVE, PAUSED or ENDED.
	Status Status
	// EndReason says why an ENDED promotion ended.
	EndReason string
	// Clicks counts hand-offs issued (atomically).
	Clicks int64
	// Version grows by one with every status change (compare-and-swap).
	Version int64
	// CreatedAt orders the feed and a creator's list; UpdatedAt is the last change.
	CreatedAt, UpdatedAt time.Time
}

// StateAt returns the promotion's state at now.
func (p Promotion) StateAt(now time.Time) State {
	switch {
	case p.Status == StatusEnded:
		return StateEnded
	case !now.Before(p.EndsAt):
		return StateExpired
	case p.Status == StatusPaused:
		return StatePaused
	case now.Before(p.StartsAt):
		return StateScheduled
	default:
		return StateLive
	}
}

// LiveAt reports whether the promotion is live at now.
func (p Promotion) LiveAt(now time.Time) bool { return p.StateAt(now) == StateLive }

// Terms are the promotion's commission terms.
func (p Promotion) Terms() commission.Terms {
	return commission.Terms{CreatorID: p.CreatorID, RateBps: p.CommissionBps}
}

// NewPromotion is what a creator supplies.
type NewPromotion struct {
	// ProductID is required.
	ProductID string
	// Kind is required.
	Kind Kind
	// Caption is optional.
	Caption string
	// MediaURL is required for video and live.
	MediaURL string
	// CommissionBps is required, within [commission.MinRateBps, commission.MaxRateBps].
	CommissionBps int
	// StartsAt is optional (zero means now).
	StartsAt time.Time
	// EndsAt is required.
	EndsAt time.Time
}

// normalize trims text and defaults the start.
func (in NewPromotion) normalize(now time.Time) NewPromotion {
	in.ProductID = strings.TrimSpace(in.ProductID)
	in.Caption = strings.TrimSpace(in.Caption)
	in.MediaURL = strings.TrimSpace(in.MediaURL)
	if in.StartsAt.IsZero() || in.StartsAt.Before(now) && !in.StartsAt.Before(now.Add(-StartSkew)) {
		in.StartsAt = now
	}
	in.StartsAt, in.EndsAt = in.StartsAt.UTC(), in.EndsAt.UTC()
	return in
}

// validate checks a normalized input at now.
func (in NewPromotion) validate(now time.Time) error {
	var ps problems
	if len(in.ProductID) > 128 || !ident.Token(in.ProductID) {
		ps.Add("productId", "is required: a product id of 1 to 128 letters, digits, _ or -")
	}
	switch in.Kind {
	case KindVideo, KindLive, KindShowcase:
	case "":
		ps.Add("kind", "is required: one of video, live, showcase")
	default:
		ps.Add("kind", "must be one of video, live, showcase")
	}
	if n := utf8.RuneCountInString(in.Caption); n > MaxCaptionRunes {
		ps.Add("caption", fmt.Sprintf("must be at most %d characters", MaxCaptionRunes))
	} else if !utf8.ValidString(in.Caption) || strings.ContainsFunc(in.Caption, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
		ps.Add("caption", "must be text without control characters other than line breaks")
	}
	switch {
	case in.MediaURL == "" && (in.Kind == KindVideo || in.Kind == KindLive):
		ps.Add("mediaUrl", "is required for a video or live promotion")
	case in.MediaURL != "":
		validateURL(&ps, "mediaUrl", in.MediaURL)
	}
	if !commission.ValidRate(in.CommissionBps) {
		ps.Add("commissionBps", fmt.Sprintf("must be between %d and %d basis points (1%% to 50%%)", commission.MinRateBps, commission.MaxRateBps))
	}
	switch {
	case in.StartsAt.Before(now.Add(-StartSkew)):
		ps.Add("startsAt", "must not be in the past")
	case in.StartsAt.After(now.Add(MaxStartDelay)):
		ps.Add("startsAt", "must be within 90 days from now")
	}
	switch {
	case in.EndsAt.IsZero():
		ps.Add("endsAt", "is required")
	case in.EndsAt.Sub(in.StartsAt) < MinWindow:
		ps.Add("endsAt", "must be at least 5 minutes after startsAt")
	case in.EndsAt.Sub(in.StartsAt) > MaxWindow:
		ps.Add("endsAt", "must be at most 366 days after startsAt")
	}
	return ps.Err()
}

// validateURL accepts an absolute https URL with a host, or a root-relative path on the
// storefront's own origin; everything else (http, javascript:, data:, "//host") is
// refused, because the URL ends up in pages.
func validateURL(ps *problems, field, s string) {
	if len(s) > MaxMediaURLLength {
		ps.Add(field, fmt.Sprintf("must be at most %d characters", MaxMediaURLLength))
		return
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f || r > unicode.MaxASCII }) {
		ps.Add(field, "must be a URL without spaces, backslashes or non-ASCII characters (percent-encode them)")
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		ps.Add(field, "must be a valid URL")
	case strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && len(s) > 1 && u.Scheme == "" && u.Host == "":
	case u.Scheme == "https" && u.Host != "" && u.User == nil && u.Opaque == "":
	default:
		ps.Add(field, "must be an https URL or a path such as /media/video.mp4")
	}
}

// idEncoding is lower-case RFC 4648 base32 without padding.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a fresh random promotion id.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("promotion id: %w", err)
	}
	return "pr_" + idEncoding.EncodeToString(b[:]), nil
}

// ValidID reports whether id has the shape of a promotion id; others cannot exist.
func ValidID(id string) bool { return len(id) == 3+26 && ident.Base32(id, "pr_") }
