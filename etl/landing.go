package etl

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// landingSuffixes are the names extract reads (case-sensitive); anything else is ignored.
var landingSuffixes = []string{".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz"}

// IsLandingFile reports whether a file name is one extract reads.
func IsLandingFile(name string) bool {
	for _, s := range landingSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// LandingFile is one file found under landing/.
type LandingFile struct {
	Rel     string // path relative to landing/, with '/' separators
	Abs     string
	Size    int64
	ModTime int64 // nanoseconds
	info    fs.FileInfo
}

// key names the file in the manifest (JSON, so UTF-8): its path, or, when that is not
// valid UTF-8, the path quoted with Go escapes ("bin\xff.ndjson", quotes included).
func (f LandingFile) key() string {
	if utf8.ValidString(f.Rel) {
		return f.Rel
	}
	return strconv.Quote(f.Rel)
}

// misnamedPath is the inverse of key for a path that is not valid UTF-8.
func misnamedPath(key string) (rel string, ok bool) {
	if !strings.HasPrefix(key, `"`) {
		return "", false
	}
	rel, err := strconv.Unquote(key)
	return rel, err == nil && !utf8.ValidString(rel)
}

// Discover lists the landing files under dir in file order: byte-wise by relative path.
// A symbolic link to a regular file is read as a file at the link's path; a link to a
// directory is not walked (it could lead back above landing/, into quarantine/, or round
// a cycle), and a link that cannot be followed is no file. landing/ itself may be a link.
// One file reached by several names (links, hard links) is read once, under the first
// of its UTF-8 names in file order (a name that is not UTF-8 only when it has no other).
func Discover(dir string) ([]LandingFile, error) {
	var out []LandingFile
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // landing/ itself may be a link
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !IsLandingFile(d.Name()) {
			return nil
		}
		var info fs.FileInfo
		switch {
		case d.Type().IsRegular():
			info, err = d.Info()
		case d.Type()&fs.ModeSymlink != 0:
			if info, err = os.Stat(p); err != nil || !info.Mode().IsRegular() {
				return nil // dangling, a loop, a directory, a device: no file
			}
		default:
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, LandingFile{Rel: filepath.ToSlash(rel), Abs: p, Size: info.Size(), ModTime: info.ModTime().UnixNano(), info: info})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("discover landing files in %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	// Each file once, under its first name (its first UTF-8 name: a name that is not
	// UTF-8 cannot be loaded, see quarantineMisnamed): its lines are not read twice.
	type fileID struct{ dev, ino uint64 }
	at := make(map[fileID]int, len(out)) // index in kept
	kept := out[:0]
	for _, f := range out {
		st, ok := f.info.Sys().(*syscall.Stat_t)
		if !ok {
			kept = append(kept, f)
			continue
		}
		id := fileID{uint64(st.Dev), st.Ino}
		if i, seen := at[id]; seen {
			if !utf8.ValidString(kept[i].Rel) && utf8.ValidString(f.Rel) {
				kept[i].Rel, kept[i].Abs = f.Rel, f.Abs
			}
			continue
		}
		at[id] = len(kept)
		kept = append(kept, f)
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Rel < kept[j].Rel })
	return kept, nil
}

// chunk is a run of whole lines of one file.
type chunk struct {
	file      int   // index into the run's file list
	firstLine int64 // 1-based number of the first line in data
	data      []byte
	last      bool // the file's final chunk
}

const chunkSize = 4 << 20

// readLines streams a landing file as chunks of whole lines. Only LF ends a line; a last
// line without a final newline is still a line. There is no line-length limit: a chunk
// grows until it holds a whole line.
func readLines(f LandingFile, idx int, open func(string) (io.ReadCloser, error), getBuf func() []byte, emit func(chunk) error) (lines int64, err error) {
	fh, err := open(f.Abs)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if strings.HasSuffix(f.Rel, ".gz") {
		gz, err := newGzipMembers(fh)
		if err != nil {
			if err == io.EOF { // an empty .gz file holds no lines
				return 0, emit(chunk{file: idx, firstLine: 1, last: true})
			}
			return 0, fmt.Errorf("gzip %s: %w", f.Rel, err)
		}
		r = gz
	}
	next := int64(1)
	buf := getBuf()[:0]
	for {
		if cap(buf)-len(buf) < chunkSize/4 {
			nb := make([]byte, len(buf), 2*cap(buf)+chunkSize)
			copy(nb, buf)
			buf = nb
		}
		n, rerr := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if rerr != nil && rerr != io.EOF {
			// Keep the whole lines read before the error.
			if cut := bytes.LastIndexByte(buf, '\n'); cut >= 0 {
				c := chunk{file: idx, firstLine: next, data: buf[:cut+1]}
				next += int64(bytes.Count(c.data, []byte{'\n'}))
				if err := emit(c); err != nil {
					return next - 1, err
				}
			}
			return next - 1, fmt.Errorf("read %s: %w", f.Rel, rerr)
		}
		if rerr == io.EOF {
			if len(buf) > 0 && buf[len(buf)-1] != '\n' {
				buf = append(buf, '\n')
			}
			c := chunk{file: idx, firstLine: next, data: buf, last: true}
			next += int64(bytes.Count(buf, []byte{'\n'}))
			return next - 1, emit(c)
		}
		if len(buf) < chunkSize {
			continue
		}
		cut := bytes.LastIndexByte(buf, '\n')
		if cut < 0 {
			continue // one long line: keep reading
		}
		whole := buf[:cut+1]
		rest := buf[cut+1:]
		nb := getBuf()[:0]
		nb = append(nb, rest...)
		c := chunk{file: idx, firstLine: next, data: whole}
		next += int64(bytes.Count(whole, []byte{'\n'}))
		if err := emit(c); err != nil {
			return next - 1, err
		}
		buf = nb
	}
}

// isBlank: a line of only spaces, tabs and CR.
func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// gzipMembers reads a gzip file of one or more members. Zero bytes after the last member
// (the padding of a tape or a block device) end the file, as gzip -d reads them
// (compress/gzip alone reads them as a bad member header). Anything else after the
// padding is damage here, an error (gzip -d only warns of "trailing garbage").
type gzipMembers struct {
	br *bufio.Reader
	z  *gzip.Reader
}

func newGzipMembers(r io.Reader) (*gzipMembers, error) {
	br := bufio.NewReader(r)
	z, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	z.Multistream(false)
	return &gzipMembers{br: br, z: z}, nil
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.z.Read(p)
		if err != io.EOF {
			return n, err
		}
		if n > 0 {
			return n, nil // the member's end is found again on the next call
		}
		zeros := false
		for {
			b, err := g.br.ReadByte()
			if err == io.EOF {
				return 0, io.EOF
			}
			if err != nil {
				return 0, err
			}
			if b != 0 {
				if err := g.br.UnreadByte(); err != nil {
					return 0, err
				}
				break
			}
			zeros = true
		}
		if zeros {
			return 0, fmt.Errorf("gzip: data after the zero padding that ends the last member: %w", gzip.ErrHeader)
		}
		if err := g.z.Reset(g.br); err != nil {
			return 0, err
		}
		g.z.Multistream(false)
	}
}
