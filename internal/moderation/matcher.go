package moderation

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rootDense covers the Basic Multilingual Plane: the root is visited after every failed
// character, so its transitions are one array index instead of a search.
const rootDense = 0x10000

// Matcher finds the words of a list in a text with an Aho–Corasick automaton over runes:
// one pass over the text whatever the number of words. Latin letters match case-
// insensitively and full-width ASCII matches its half-width form. A Matcher is immutable.
type Matcher struct {
	root []int32 // root transitions for runes below rootDense (0: none)
	// edges of state s are edgeRunes/edgeNext[edgeStart[s]:edgeStart[s+1]], sorted by rune.
	edgeStart []int32
	edgeRunes []rune
	edgeNext  []int32
	fail      []int32
	// longest is, per state, the length in runes of the longest word ending there
	// (itself or along its failure chain); 0 when no word ends there.
	longest []int32
	words   int
}

// fold maps a rune to the form words and texts are compared in.
func fold(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
		r -= 0xFEE0
	}
	return unicode.ToLower(r)
}

// Compile builds the automaton of words; surrounding spaces are trimmed and empty words ignored.
func Compile(words []string) *Matcher {
	// Build a trie with map edges first, then flatten it.
	type node struct {
		next  map[rune]int32
		depth int32
		word  bool
	}
	nodes := []node{{}}
	count := 0
	for _, w := range words {
		s := int32(0)
		n := int32(0)
		for _, r := range strings.TrimSpace(w) {
			r = fold(r)
			if nodes[s].next == nil {
				nodes[s].next = map[rune]int32{}
			}
			nx, ok := nodes[s].next[r]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{depth: nodes[s].depth + 1})
				nodes[s].next[r] = nx
			}
			s = nx
			n++
		}
		if n > 0 && !nodes[s].word {
			nodes[s].word = true
			count++
		}
	}
	m := &Matcher{
		root:      make([]int32, rootDense),
		edgeStart: make([]int32, len(nodes)+1),
		fail:      make([]int32, len(nodes)),
		longest:   make([]int32, len(nodes)),
		words:     count,
	}
	for s := range nodes {
		m.edgeStart[s] = int32(len(m.edgeRunes))
		runes := make([]rune, 0, len(nodes[s].next))
		for r := range nodes[s].next {
			runes = append(runes, r)
		}
		slices.Sort(runes)
		for _, r := range runes {
			m.edgeRunes = append(m.edgeRunes, r)
			m.edgeNext = append(m.edgeNext, nodes[s].next[r])
			if s == 0 && r < rootDense {
				m.root[r] = nodes[s].next[r]
			}
		}
		if nodes[s].word {
			m.longest[s] = nodes[s].depth
		}
	}
	m.edgeStart[len(nodes)] = int32(len(m.edgeRunes))

	// Breadth-first: a state's failure link is the longest proper suffix that is a state.
	queue := make([]int32, 0, len(nodes))
	for i := m.edgeStart[0]; i < m.edgeStart[1]; i++ {
		queue = append(queue, m.edgeNext[i]) // depth-1 states fail to the root
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for i := m.edgeStart[s]; i < m.edgeStart[s+1]; i++ {
			r, child := m.edgeRunes[i], m.edgeNext[i]
			f := m.fail[s]
			for {
				if nx := m.step(f, r); nx != 0 {
					m.fail[child] = nx
					break
				}
				if f == 0 {
					break
				}
				f = m.fail[f]
			}
			m.longest[child] = max(m.longest[child], m.longest[m.fail[child]])
			queue = append(queue, child)
		}
	}
	return m
}

// Words reports how many distinct words the matcher holds.
func (m *Matcher) Words() int { return m.words }

// step is the goto function: the state after r from s, or 0 when s has no such edge.
func (m *Matcher) step(s int32, r rune) int32 {
	if s == 0 && r < rootDense {
		return m.root[r]
	}
	lo, hi := m.edgeStart[s], m.edgeStart[s+1]
	for lo < hi {
		mid := (lo + hi) / 2
		switch c := m.edgeRunes[mid]; {
		case c == r:
			return m.edgeNext[mid]
		case c < r:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0
}

// scan walks text and calls hit with the rune index of the last rune of each match and
// the match's length in runes (the longest word ending there); hit returns false to stop.
func (m *Matcher) scan(text string, hit func(end, length int) bool) {
	s := int32(0)
	i := 0
	for _, r := range text {
		r = fold(r)
		for {
			if nx := m.step(s, r); nx != 0 {
				s = nx
				break
			}
			if s == 0 {
				break
			}
			s = m.fail[s]
		}
		if n := m.longest[s]; n > 0 && !hit(i, int(n)) {
			return
		}
		i++
	}
}

// Contains reports whether text holds any word of the list.
func (m *Matcher) Contains(text string) bool {
	found := false
	m.scan(text, func(int, int) bool { found = true; return false })
	return found
}

// Count reports how many word occurrences end in text (overlapping ones ending at the same
// character count once).
func (m *Matcher) Count(text string) int {
	n := 0
	m.scan(text, func(int, int) bool { n++; return true })
	return n
}

// Mask replaces every character of every word found in text with '*', one per character,
// and reports whether it found any.
func (m *Matcher) Mask(text string) (string, bool) {
	var masked []bool // by rune index, allocated at the first hit
	m.scan(text, func(end, length int) bool {
		if masked == nil {
			masked = make([]bool, utf8.RuneCountInString(text))
		}
		for i := end - length + 1; i <= end; i++ {
			masked[i] = true
		}
		return true
	})
	if masked == nil {
		return text, false
	}
	out := make([]rune, 0, len(masked))
	i := 0
	for _, r := range text {
		if masked[i] {
			r = '*'
		}
		out = append(out, r)
		i++
	}
	return string(out), true
}
