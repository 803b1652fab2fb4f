package views

import (
	"context"

	"golang.org/x/text/language"
)

// Lang is the interface language. Korean comes first: the users are Korean labs.
type Lang string

// The languages of the interface.
const (
	Korean  Lang = "ko"
	English Lang = "en"
)

type langKey struct{}

// WithLang returns ctx carrying the page language; handlers set it once per request.
func WithLang(ctx context.Context, l Lang) context.Context {
	return context.WithValue(ctx, langKey{}, l)
}

// LangOf is the page language in ctx, Korean when unset.
func LangOf(ctx context.Context) Lang {
	if l, ok := ctx.Value(langKey{}).(Lang); ok {
		return l
	}
	return Korean
}

// T picks the Korean or the English text. Both stand side by side where they are used, so a
// screen's two languages cannot drift apart through a separate catalogue.
func T(ctx context.Context, ko, en string) string {
	if LangOf(ctx) == English {
		return en
	}
	return ko
}

// langMatcher picks between the interface languages; Korean, first, is the default.
var langMatcher = language.NewMatcher([]language.Tag{language.Korean, language.English})

// ParseLang chooses the language from the `lang` cookie (the switch) or else the browser's
// Accept-Language, by its q-values: English only when the browser prefers it to Korean.
func ParseLang(cookie, acceptLanguage string) Lang {
	switch Lang(cookie) {
	case Korean, English:
		return Lang(cookie)
	}
	if acceptLanguage == "" {
		return Korean // agents and scripts send none: no parse on every poll
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return Korean
	}
	if _, i, conf := langMatcher.Match(tags...); conf != language.No && i == 1 {
		return English
	}
	return Korean
}
