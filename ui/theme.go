package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Colours of the call screen, which stays dark whatever the theme.
var (
	colorStage      = color.NRGBA{R: 0x0f, G: 0x11, B: 0x15, A: 0xff}
	colorBar        = color.NRGBA{R: 0x16, G: 0x18, B: 0x1d, A: 0xff}
	colorTile       = color.NRGBA{R: 0x26, G: 0x29, B: 0x31, A: 0xff}
	colorButton     = color.NRGBA{R: 0x33, G: 0x37, B: 0x41, A: 0xff}
	colorButtonHov  = color.NRGBA{R: 0x41, G: 0x46, B: 0x52, A: 0xff}
	colorDanger     = color.NRGBA{R: 0xe5, G: 0x48, B: 0x4d, A: 0xff}
	colorDangerHov  = color.NRGBA{R: 0xf0, G: 0x5d, B: 0x62, A: 0xff}
	colorAccent     = color.NRGBA{R: 0x3b, G: 0x82, B: 0xf6, A: 0xff}
	colorAccentHov  = color.NRGBA{R: 0x5a, G: 0x96, B: 0xf8, A: 0xff}
	colorSpeaking   = color.NRGBA{R: 0x34, G: 0xd3, B: 0x99, A: 0xff}
	colorText       = color.NRGBA{R: 0xf1, G: 0xf3, B: 0xf5, A: 0xff}
	colorTextDim    = color.NRGBA{R: 0x9a, G: 0xa0, B: 0xab, A: 0xff}
	colorNamePill   = color.NRGBA{R: 0x00, G: 0x00, B: 0x00, A: 0x99}
	colorBanner     = color.NRGBA{R: 0x8a, G: 0x5a, B: 0x00, A: 0xff}
	colorWarning    = color.NRGBA{R: 0xf5, G: 0xb7, B: 0x32, A: 0xff}
	colorPresenting = color.NRGBA{R: 0x1e, G: 0x3a, B: 0x6e, A: 0xff}
	colorOwnMessage = color.NRGBA{R: 0x1f, G: 0x3a, B: 0x66, A: 0xff}
	colorMessage    = color.NRGBA{R: 0x23, G: 0x26, B: 0x2e, A: 0xff}
	colorTooltip    = color.NRGBA{R: 0x2b, G: 0x2f, B: 0x38, A: 0xf2}
	colorHand       = color.NRGBA{R: 0xf5, G: 0xb7, B: 0x32, A: 0xf2} // the raised-hand badge
	colorHandText   = color.NRGBA{R: 0x1a, G: 0x14, B: 0x00, A: 0xff}
)

// avatarColors are the placeholder circle colours; a participant's id
// picks one, so a person keeps the same colour.
var avatarColors = []color.NRGBA{
	{R: 0x5b, G: 0x6e, B: 0xe1, A: 0xff},
	{R: 0xd9, G: 0x5d, B: 0x8f, A: 0xff},
	{R: 0x2f, G: 0xa3, B: 0x8c, A: 0xff},
	{R: 0xe0, G: 0x8a, B: 0x3c, A: 0xff},
	{R: 0x8e, G: 0x5c, B: 0xd6, A: 0xff},
	{R: 0x3a, G: 0x9a, B: 0xd9, A: 0xff},
	{R: 0xc2, G: 0x5b, B: 0x4a, A: 0xff},
	{R: 0x6a, G: 0x9a, B: 0x3f, A: 0xff},
}

// confabTheme is Fyne's default theme in its dark variant with Confab's
// blue accent and softer greys.
type confabTheme struct{}

var _ fyne.Theme = confabTheme{}

// Color returns the named colour, always from the dark palette.
func (confabTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground:
		// The window is cleared to this colour before every frame, so the
		// dark stage behind the tiles and cards costs nothing to draw. A
		// rectangle over the stage was shaded again on every repaint: 13 ms
		// of CPU per frame with software GL (llvmpipe) in a 4-party call.
		return colorStage
	case theme.ColorNameHeaderBackground, theme.ColorNameMenuBackground, theme.ColorNameOverlayBackground:
		return color.NRGBA{R: 0x1d, G: 0x20, B: 0x26, A: 0xff}
	case theme.ColorNameInputBackground:
		return color.NRGBA{R: 0x21, G: 0x24, B: 0x2b, A: 0xff}
	case theme.ColorNameInputBorder:
		return color.NRGBA{R: 0x3a, G: 0x3f, B: 0x4a, A: 0xff}
	case theme.ColorNameButton:
		return colorButton
	case theme.ColorNameForeground:
		return colorText
	case theme.ColorNamePlaceHolder:
		return colorTextDim
	case theme.ColorNamePrimary, theme.ColorNameFocus, theme.ColorNameHyperlink:
		if n == theme.ColorNameFocus {
			return color.NRGBA{R: 0x3b, G: 0x82, B: 0xf6, A: 0x99}
		}
		if n == theme.ColorNameHyperlink {
			return color.NRGBA{R: 0x7c, G: 0xb4, B: 0xff, A: 0xff}
		}
		return colorAccent
	case theme.ColorNameSelection:
		return color.NRGBA{R: 0x3b, G: 0x82, B: 0xf6, A: 0x55}
	case theme.ColorNameSeparator:
		return color.NRGBA{R: 0x2a, G: 0x2e, B: 0x36, A: 0xff}
	case theme.ColorNameError:
		return color.NRGBA{R: 0xff, G: 0x7b, B: 0x7f, A: 0xff}
	case theme.ColorNameSuccess:
		return colorSpeaking
	case theme.ColorNameDisabled:
		return colorTextDim
	}
	return theme.DefaultTheme().Color(n, theme.VariantDark)
}

// Font returns the default font.
func (confabTheme) Font(s fyne.TextStyle) fyne.Resource { return theme.DefaultTheme().Font(s) }

// Icon returns the default icon.
func (confabTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return theme.DefaultTheme().Icon(n) }

// sizeNameJumboEmoji is the text size of a chat message that is only a
// few emoji.
const sizeNameJumboEmoji fyne.ThemeSizeName = "confab-jumbo-emoji"

// Size returns the default sizes, and the app's own.
func (confabTheme) Size(n fyne.ThemeSizeName) float32 {
	if n == sizeNameJumboEmoji {
		return 40
	}
	return theme.DefaultTheme().Size(n)
}

// splitTheme is confabTheme with a visible divider for the chat panel's
// split: Fyne draws the divider in the Shadow colour and its grip in the
// Foreground colour, separator-thick.
type splitTheme struct{ confabTheme }

// Color makes the divider a grey bar.
func (t splitTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameShadow {
		return colorButton
	}
	return t.confabTheme.Color(n, v)
}

// Size makes the divider wider and its grip thicker.
func (t splitTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameSplitThickness:
		return 6
	case theme.SizeNameSeparatorThickness:
		return 2
	}
	return t.confabTheme.Size(n)
}
