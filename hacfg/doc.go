// Package hacfg reads HAProxy configuration files the way HAProxy 2.6
// cuts them into words, so that a finding can name the file and line it
// is about.
//
// It knows the format, not the keywords: sections (global, defaults,
// frontend, backend, listen, peers, ...), named `defaults` sections and
// the `from` that picks one, the `.if/.elif/.else/.endif` blocks (with the
// predicates of HAProxy 2.6 evaluated against the environment and a
// version), quoting and escapes, `"${NAME}"` expansion (only inside double
// quotes, as HAProxy does), and comments. What each keyword means is the
// business of its readers; Section.Lookup and Section.Option give them the
// value a proxy inherits from its defaults section.
//
// The rules were checked against HAProxy 2.6.12 with `.notice` lines (see
// the tests): `${FOO}` outside double quotes is not expanded, `#` starts a
// comment even in the middle of a word, an unknown escape keeps its
// backslash, and `"${LIST[*]}"` is split into several words.
package hacfg
