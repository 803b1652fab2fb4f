package execute

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// utf8CodePage is Windows' number for UTF-8, and what Linux tools write.
const utf8CodePage = 65001

// capWriter keeps the first max bytes written to it and counts the rest. It never refuses a
// write, so a process with more output than we keep never blocks on a full pipe.
type capWriter struct {
	max     int
	buf     []byte
	dropped int64
}

func (w *capWriter) Write(b []byte) (int, error) {
	keep := min(len(b), w.max-len(w.buf))
	w.buf = append(w.buf, b[:keep]...)
	w.dropped += int64(len(b) - keep)
	return len(b), nil
}

// bytes returns what was kept, with a visible note when some was dropped.
func (w *capWriter) bytes() []byte {
	if w.dropped == 0 {
		return w.buf
	}
	kept := trimPartialRune(w.buf)
	dropped := w.dropped + int64(len(w.buf)-len(kept))
	return fmt.Appendf(kept[:len(kept):len(kept)], "\n[output truncated: %d bytes dropped]", dropped)
}

// trimPartialRune drops a UTF-8 sequence cut short at the end of b, so that cutting valid
// UTF-8 output at the cap does not make it look like another encoding.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return b
			}
			return b[:i]
		}
	}
	return b
}

// decode turns process output into UTF-8. Valid UTF-8 is kept as it is (PowerShell, Chocolatey
// and Linux tools write it); anything else is read in codepage, the console code page that
// Windows programs such as cmd.exe and net.exe write in. Bytes that still do not decode become
// U+FFFD.
func decode(b []byte, codepage uint32) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if enc := codePageEncoding(codepage); enc != nil {
		if s, err := enc.NewDecoder().Bytes(b); err == nil {
			return strings.ToValidUTF8(string(s), "\uFFFD")
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// codePageEncoding maps a Windows code page number to its encoding: the OEM and ANSI code pages
// of the Windows languages x/text knows. It returns nil for UTF-8 and unknown ones.
func codePageEncoding(cp uint32) encoding.Encoding {
	switch cp {
	case 949:
		// x/text's EUC-KR is the full Windows code page 949 (Unified Hangul Code).
		return korean.EUCKR
	case 932:
		return japanese.ShiftJIS
	case 936:
		return simplifiedchinese.GBK
	case 950:
		return traditionalchinese.Big5
	case 437:
		return charmap.CodePage437
	case 850:
		return charmap.CodePage850
	case 852:
		return charmap.CodePage852
	case 855:
		return charmap.CodePage855
	case 858:
		return charmap.CodePage858
	case 860:
		return charmap.CodePage860
	case 862:
		return charmap.CodePage862
	case 863:
		return charmap.CodePage863
	case 865:
		return charmap.CodePage865
	case 866:
		return charmap.CodePage866
	case 874:
		return charmap.Windows874
	case 1250:
		return charmap.Windows1250
	case 1251:
		return charmap.Windows1251
	case 1252:
		return charmap.Windows1252
	case 1253:
		return charmap.Windows1253
	case 1254:
		return charmap.Windows1254
	case 1255:
		return charmap.Windows1255
	case 1256:
		return charmap.Windows1256
	case 1257:
		return charmap.Windows1257
	case 1258:
		return charmap.Windows1258
	}
	return nil
}
