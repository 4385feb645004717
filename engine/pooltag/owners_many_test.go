package pooltag

import (
	"context"
	"reflect"
	"testing"
)

// ImagesHolding agrees with Owners tag by tag: the same hard places (a tag across a read
// boundary, a missing page cutting a tag in two, the image's end) give the same answers.
func TestImagesHolding(t *testing.T) {
	img := buildImage(0x50000, []testSection{{".text", 0x1000, 0x1000, 0x60000020}, {".data", 0x2000, 0x4d000, 0xC0000040}})
	put := func(rva int, b string) { copy(img[rva:], b) }
	put(0x1010, "\x41\xb8Leak") // an immediate operand
	put(0x2ffe, "Fo")           // "Foo1" cut by the missing page 0x3000
	put(0x3000, "o1")
	put(0x44000-2, "Bar2") // across the 256 KB read that starts at 0x4000
	put(0x4fffd, "Baz")    // runs off the end: no hit
	other := buildImage(0x10000, []testSection{{".data", 0x1000, 0xf000, 0xC0000040}})
	copy(other[0x1800:], "Leak")
	images := []Image{
		{Name: "a.sys", Base: testBase, Size: 0x50000, Mem: &sparseMem{base: testBase, data: img, missing: map[uint64]bool{0x3000: true}}},
		{Name: "b.sys", Base: testBase + 0x100000, Mem: &sparseMem{base: testBase + 0x100000, data: other}},
	}
	tags := []string{"Leak", "Foo1", "Bar2", "Baz ", "None"}
	got, err := ImagesHolding(context.Background(), tags, images)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"Leak": {"a.sys", "b.sys"}, "Bar2": {"a.sys"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	// The same answers, tag by tag, from Owners.
	for _, tag := range tags {
		owners, err := Owners(context.Background(), tag, images)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range owners {
			if o.Hits > 0 {
				names = append(names, o.Image)
			}
		}
		if !reflect.DeepEqual(names, want[tag]) {
			t.Errorf("%s: Owners says %v, ImagesHolding %v", tag, names, want[tag])
		}
	}
	if _, err := ImagesHolding(context.Background(), []string{"Le*"}, images); err == nil {
		t.Error("a wildcard tag was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ImagesHolding(ctx, []string{"Leak"}, images); err == nil {
		t.Error("a cancelled search reported no error")
	}
}
