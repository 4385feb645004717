package minidump

// Comment is the text of one CommentStreamA (ANSI) or CommentStreamW (UTF-16) stream.
type Comment struct {
	StreamType StreamType
	Text       string
}

// maxComment bounds how much of a comment stream is decoded into a string.
const maxComment = 1 << 20

// Comments decodes every comment stream in directory order; nil when there are none.
func (f *File) Comments() ([]Comment, error) {
	return f.comments.get(func() ([]Comment, error) {
		var out []Comment
		for _, d := range f.Directory {
			if d.StreamType != CommentStreamA && d.StreamType != CommentStreamW {
				continue
			}
			b, err := f.StreamData(d)
			if err != nil {
				return out, err
			}
			b = b[:min(len(b), maxComment)]
			text := cString(b)
			if d.StreamType == CommentStreamW {
				text = decodeUTF16(b, true)
			}
			out = append(out, Comment{StreamType: d.StreamType, Text: text})
		}
		return out, nil
	})
}
