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

// pionLogger logs pion's messages through slog; trace and debug map to debug.
type pionLogger struct{ l *slog.Logger }

func (p pionLogger) log(lvl slog.Level, msg string) {
	if p.l.Enabled(context.Background(), lvl) {
		p.l.Log(context.Background(), lvl, msg)
	}
}
func (p pionLogger) Trace(msg string) { p.log(slog.LevelDebug-4, msg) }
func (p pionLogger) Tracef(f string, a ...interface{}) {
	p.log(slog.LevelDebug-4, fmt.Sprintf(f, a...))
}
func (p pionLogger) Debug(msg string)                  { p.log(slog.LevelDebug, msg) }
func (p pionLogger) Debugf(f string, a ...interface{}) { p.log(slog.LevelDebug, fmt.Sprintf(f, a...)) }
func (p pionLogger) Info(msg string)                   { p.log(slog.LevelInfo, msg) }
func (p pionLogger) Infof(f string, a ...interface{})  { p.log(slog.LevelInfo, fmt.Sprintf(f, a...)) }
func (p pionLogger) Warn(msg string)                   { p.log(slog.LevelWarn, msg) }
func (p pionLogger) Warnf(f string, a ...interface{})  { p.log(slog.LevelWarn, fmt.Sprintf(f, a...)) }
func (p pionLogger) Error(msg string)                  { p.log(slog.LevelError, msg) }
func (p pionLogger) Errorf(f string, a ...interface{}) { p.log(slog.LevelError, fmt.Sprintf(f, a...)) }
