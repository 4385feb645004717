package minidump

// Comment is the text of one CommentStreamA (ANSI) or CommentStreamW (UTF-16) stream.
type Comment struct {
	StreamType StreamType
	Text       string
}

// Comment streams are free text: decode at most maxComments of them and maxCommentBytes in all,
// so that a directory of a million entries naming one big comment cannot cost more than that.
const (
	maxComments     = 64
	maxCommentBytes = 1 << 20
)

// Comments decodes every comment stream in directory order; nil when there are none.
func (f *File) Comments() ([]Comment, error) {
	return f.comments.Get(func() ([]Comment, error) {
		var out []Comment
		budget := maxCommentBytes
		for _, d := range f.Directory {
			if d.StreamType != CommentStreamA && d.StreamType != CommentStreamW {
				continue
			}
			if len(out) == maxComments || budget == 0 {
				return out, formatErr(int64(d.Location.Rva), streamWhat(d.StreamType),
					"more comment text than the first %d streams or %d bytes; ignored", maxComments, maxCommentBytes)
			}
			b, err := f.StreamData(d)
			if err != nil {
				return out, err
			}
			b = b[:min(len(b), budget)]
			budget -= len(b)
			text := cString(b)
			if d.StreamType == CommentStreamW {
				text = decodeUTF16(b, true)
			}
			out = append(out, Comment{StreamType: d.StreamType, Text: text})
		}
		return out, nil
	})
}
