package warehouse

import (
	"fmt"
	"time"
)

type timeT = time.Time

func parseDay(s string) (time.Time, error) { return time.Parse("2006-01-02", s) }

func sprint(v ...any) string { return fmt.Sprint(v...) }
