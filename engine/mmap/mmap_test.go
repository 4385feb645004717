package mmap

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkReads(t *testing.T, f *File, want []byte) {
	t.Helper()
	if f.Size() != int64(len(want)) {
		t.Fatalf("Size = %d, want %d", f.Size(), len(want))
	}
	// A read inside the file.
	p := make([]byte, 5)
	n, err := f.ReadAt(p, 3)
	if n != 5 || err != nil || !bytes.Equal(p, want[3:8]) {
		t.Fatalf("ReadAt(5, 3) = %d, %v, %x; want 5, nil, %x", n, err, p, want[3:8])
	}
	// A read running past the end returns the prefix and io.EOF, as io.ReaderAt requires.
	p = make([]byte, 10)
	n, err = f.ReadAt(p, int64(len(want)-4))
	if n != 4 || err != io.EOF || !bytes.Equal(p[:4], want[len(want)-4:]) {
		t.Fatalf("ReadAt past end = %d, %v; want 4, EOF", n, err)
	}
	// A read starting at the end.
	n, err = f.ReadAt(p, int64(len(want)))
	if n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at end = %d, %v; want 0, EOF", n, err)
	}
}

func TestOpenMapsFile(t *testing.T) {
	want := []byte("MDMP\x93\xa7 some bytes of a file that is mapped")
	f, err := Open(writeTemp(t, want))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if runtime.GOOS != "windows" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" && runtime.GOOS != "plan9" {
		if !bytes.Equal(f.Bytes(), want) {
			t.Fatalf("Bytes = %q, want %q", f.Bytes(), want)
		}
	}
	checkReads(t, f, want)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.Bytes() != nil {
		t.Fatal("Bytes after Close is not nil")
	}
	if _, err := f.ReadAt(make([]byte, 1), 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("ReadAt after Close: err = %v, want os.ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestFallbackReadAt(t *testing.T) {
	want := []byte("0123456789abcdef")
	osf, err := os.Open(writeTemp(t, want))
	if err != nil {
		t.Fatal(err)
	}
	f := &File{f: osf, size: int64(len(want))} // what Open builds when mapping is impossible
	defer f.Close()
	if f.Bytes() != nil {
		t.Fatal("unmapped File has Bytes")
	}
	checkReads(t, f, want)
}

func TestOpenEmptyFile(t *testing.T) {
	f, err := Open(writeTemp(t, nil))
	if err != nil {
		t.Fatalf("Open(empty) = %v, want no error", err)
	}
	defer f.Close()
	if f.Size() != 0 || f.Bytes() != nil {
		t.Fatalf("empty file: Size %d, Bytes %v", f.Size(), f.Bytes())
	}
	if n, err := f.ReadAt(make([]byte, 4), 0); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt on empty = %d, %v; want 0, EOF", n, err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open(missing) = %v, want ErrNotExist", err)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Fatal("Open(directory) succeeded")
	}
}

func TestNegativeOffset(t *testing.T) {
	f, err := Open(writeTemp(t, []byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("ReadAt(-1) succeeded")
	}
}
