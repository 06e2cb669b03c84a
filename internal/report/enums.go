package report

import (
	"fmt"
	"io"
	"strconv"
)

func unmarshalEnum[T ~string](v any, ok func(T) bool) (T, error) {
	s, isStr := v.(string)
	if !isStr || !ok(T(s)) {
		return "", fmt.Errorf("%v is not a valid value", v)
	}
	return T(s), nil
}

func writeEnum(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

// MarshalGQL writes the preset's name.
func (p PeriodPreset) MarshalGQL(w io.Writer) { writeEnum(w, string(p)) }

// UnmarshalGQL reads a preset.
func (p *PeriodPreset) UnmarshalGQL(v any) (err error) {
	*p, err = unmarshalEnum(v, func(x PeriodPreset) bool {
		switch x {
		case PresetToday, PresetYesterday, PresetThisWeek, PresetThisMonth, PresetLast7Days, PresetLast30Days:
			return true
		}
		return false
	})
	return err
}

// MarshalGQL writes the bucket's name.
func (b SummaryBucket) MarshalGQL(w io.Writer) { writeEnum(w, string(b)) }

// UnmarshalGQL reads a bucket.
func (b *SummaryBucket) UnmarshalGQL(v any) (err error) {
	*b, err = unmarshalEnum(v, func(x SummaryBucket) bool {
		_, _, err := bucketExprs(x, "t", "z")
		return x != "" && err == nil
	})
	return err
}

// MarshalGQL writes the split's name.
func (s SummarySplit) MarshalGQL(w io.Writer) { writeEnum(w, string(s)) }

// UnmarshalGQL reads a split.
func (s *SummarySplit) UnmarshalGQL(v any) (err error) {
	*s, err = unmarshalEnum(v, func(x SummarySplit) bool {
		_, _, _, err := splitExprs(x)
		return x != "" && err == nil
	})
	return err
}
