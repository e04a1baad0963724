package sfu

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/pion/logging"
)

// NewLoggerFactory adapts slog to pion's logging. A nil logger discards.
func NewLoggerFactory(l *slog.Logger) logging.LoggerFactory {
	if l == nil {
		l = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return loggerFactory{l: l}
}

type loggerFactory struct{ l *slog.Logger }

func (f loggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{l: f.l.With("pion", scope)}
}

// pionLogger logs pion's messages through slog; trace and debug map to
// debug. Formatting happens only for enabled levels: pion formats some of
// its live objects with %+v, which would otherwise cost time on every call
// and race with their owners.
type pionLogger struct{ l *slog.Logger }

const levelTrace = slog.LevelDebug - 4

func (p pionLogger) log(lvl slog.Level, msg string) {
	p.l.Log(context.Background(), lvl, msg)
}

func (p pionLogger) logf(lvl slog.Level, format string, args ...interface{}) {
	if p.l.Enabled(context.Background(), lvl) {
		p.l.Log(context.Background(), lvl, fmt.Sprintf(format, args...))
	}
}

func (p pionLogger) Trace(msg string)                  { p.log(levelTrace, msg) }
func (p pionLogger) Tracef(f string, a ...interface{}) { p.logf(levelTrace, f, a...) }
func (p pionLogger) Debug(msg string)                  { p.log(slog.LevelDebug, msg) }
func (p pionLogger) Debugf(f string, a ...interface{}) { p.logf(slog.LevelDebug, f, a...) }
func (p pionLogger) Info(msg string)                   { p.log(slog.LevelInfo, msg) }
func (p pionLogger) Infof(f string, a ...interface{})  { p.logf(slog.LevelInfo, f, a...) }
func (p pionLogger) Warn(msg string)                   { p.log(slog.LevelWarn, msg) }
func (p pionLogger) Warnf(f string, a ...interface{})  { p.logf(slog.LevelWarn, f, a...) }
func (p pionLogger) Error(msg string)                  { p.log(slog.LevelError, msg) }
func (p pionLogger) Errorf(f string, a ...interface{}) { p.logf(slog.LevelError, f, a...) }
