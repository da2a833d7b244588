package backup_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/webinfra/webinfra/backup"
)

// twoYears is a snapshot every six hours through 2024 and 2025 (2,924 snapshots), handed over
// in shuffled order.
func twoYears() []backup.SnapshotInfo {
	var out []backup.SnapshotInfo
	for t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); t.Year() < 2026; t = t.Add(6 * time.Hour) {
		out = append(out, backup.SnapshotInfo{Host: "h", Set: "s", ID: t.Format("20060102T150405.000Z"), Time: t})
	}
	// A fixed permutation: the function must not rely on input order.
	for i := range out {
		j := (i * 7919) % len(out)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func TestRetentionTwoYearSeries(t *testing.T) {
	snaps := twoYears()
	require.Len(t, snaps, 2924)
	r := backup.Retention{Last: 3, Hourly: 5, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 3}
	decisions := backup.ApplyRetention(snaps, r)
	require.Len(t, decisions, len(snaps))

	// Worked out by hand from the calendar (2025-12-31 is a Wednesday, in ISO week 2026-W01
	// which starts on Monday 2025-12-29; 2025 is not a leap year):
	want := map[string][]string{
		"20251231T180000.000Z": {"last", "hourly", "daily", "weekly", "monthly", "yearly", "newest"},
		"20251231T120000.000Z": {"last", "hourly"},
		"20251231T060000.000Z": {"last", "hourly"},
		"20251231T000000.000Z": {"hourly"},
		"20251230T180000.000Z": {"hourly", "daily"},
		"20251229T180000.000Z": {"daily"},
		"20251228T180000.000Z": {"daily", "weekly"}, // Sunday: last of 2025-W52
		"20251227T180000.000Z": {"daily"},
		"20251226T180000.000Z": {"daily"},
		"20251225T180000.000Z": {"daily"},
		"20251221T180000.000Z": {"weekly"}, // 2025-W51
		"20251214T180000.000Z": {"weekly"}, // 2025-W50
		"20251130T180000.000Z": {"monthly"},
		"20251031T180000.000Z": {"monthly"},
		"20250930T180000.000Z": {"monthly"},
		"20250831T180000.000Z": {"monthly"},
		"20250731T180000.000Z": {"monthly"},
		"20250630T180000.000Z": {"monthly"},
		"20250531T180000.000Z": {"monthly"},
		"20250430T180000.000Z": {"monthly"},
		"20250331T180000.000Z": {"monthly"},
		"20250228T180000.000Z": {"monthly"},
		"20250131T180000.000Z": {"monthly"},
		"20241231T180000.000Z": {"yearly"}, // only two years exist: Yearly 3 keeps 2
	}
	got := map[string][]string{}
	for i, d := range decisions {
		if i > 0 {
			require.True(t, d.Snapshot.Time.Before(decisions[i-1].Snapshot.Time), "newest first")
		}
		if d.Keep {
			got[d.Snapshot.ID] = d.Reasons
		} else {
			assert.Empty(t, d.Reasons)
		}
	}
	assert.Equal(t, want, got)
}

func TestRetentionEdges(t *testing.T) {
	snaps := twoYears()
	t.Run("NoRuleKeepsAll", func(t *testing.T) {
		for _, d := range backup.ApplyRetention(snaps, backup.Retention{}) {
			require.True(t, d.Keep)
		}
	})
	t.Run("NewestAlwaysKept", func(t *testing.T) {
		// Only a yearly rule for a year with no snapshot after this point: still the newest
		// survives, and the oldest of the last year's is not preferred.
		old := slices.DeleteFunc(slices.Clone(snaps), func(s backup.SnapshotInfo) bool { return s.Time.Year() == 2025 })
		ds := backup.ApplyRetention(old, backup.Retention{Yearly: 1})
		var kept []string
		for _, d := range ds {
			if d.Keep {
				kept = append(kept, d.Snapshot.ID)
			}
		}
		assert.Equal(t, []string{"20241231T180000.000Z"}, kept)
		assert.Equal(t, []string{"yearly", "newest"}, ds[0].Reasons)
	})
	t.Run("Empty", func(t *testing.T) {
		assert.Empty(t, backup.ApplyRetention(nil, backup.Retention{Last: 1}))
	})
	t.Run("LastMoreThanExist", func(t *testing.T) {
		ds := backup.ApplyRetention(snaps[:10], backup.Retention{Last: 50})
		for _, d := range ds {
			assert.True(t, d.Keep)
		}
	})
}

func parseID(id string) (time.Time, error) { return time.Parse("20060102T150405.000Z", id) }
