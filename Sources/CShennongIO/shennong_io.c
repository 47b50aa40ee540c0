// Buffered input and held output for the MQTT ingest socket.
//
// libmosquitto 2.0 reads every packet with several small read() calls (the fixed header byte,
// each byte of the remaining length, then the body) and writes every PUBACK with its own
// write(); it has no hook for either. This file defines `read` and `write` for the whole
// process: the dynamic linker resolves libmosquitto's calls to them (the executable comes
// first in symbol lookup). Every call not made on a thread that attached a state, or not on
// that state's socket, goes straight to the system call, unchanged. On the ingest thread,
// for its socket:
//   - read() is served from a buffer filled by one large read() of the socket;
//   - write() is captured: the bytes are kept, and the ingest loop sends them itself
//     (shennong_io_send) once the messages they acknowledge are committed. That lets the
//     loop read the next burst while the previous one is being committed without any of the
//     next burst's PUBACKs leaving early.
// shennong_io_interposed() tells whether the linker did pick these definitions; the caller
// must not rely on capture when it did not.
#define _GNU_SOURCE
#include "shennong_io.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

struct shennong_io {
    int fd;
    unsigned char *input;
    size_t input_capacity;
    size_t input_start;
    size_t input_end;
    unsigned char *output;
    size_t output_capacity;
    size_t output_count;
};

// initial-exec: no lazy TLS allocation (malloc) inside read/write, wherever this is linked.
static __thread shennong_io *attached __attribute__((tls_model("initial-exec")));

static ssize_t system_read(int fd, void *bytes, size_t count) {
    return (ssize_t)syscall(SYS_read, fd, bytes, count);
}

static ssize_t system_write(int fd, const void *bytes, size_t count) {
    return (ssize_t)syscall(SYS_write, fd, bytes, count);
}

static ssize_t shennong_read(int fd, void *bytes, size_t count) {
    shennong_io *io = attached;
    if (io == NULL || fd < 0 || fd != io->fd || count == 0) {
        return system_read(fd, bytes, count);
    }
    if (io->input_start == io->input_end) {
        if (count >= io->input_capacity) {
            return system_read(fd, bytes, count);
        }
        ssize_t got = system_read(fd, io->input, io->input_capacity);
        if (got <= 0) {
            return got;
        }
        io->input_start = 0;
        io->input_end = (size_t)got;
    }
    size_t available = io->input_end - io->input_start;
    size_t n = count < available ? count : available;
    memcpy(bytes, io->input + io->input_start, n);
    io->input_start += n;
    return (ssize_t)n;
}

static ssize_t shennong_write(int fd, const void *bytes, size_t count) {
    shennong_io *io = attached;
    if (io == NULL || fd < 0 || fd != io->fd) {
        return system_write(fd, bytes, count);
    }
    if (io->output_count + count > io->output_capacity) {
        size_t capacity = io->output_capacity ? io->output_capacity : 16384;
        while (capacity < io->output_count + count) {
            capacity *= 2;
        }
        unsigned char *grown = realloc(io->output, capacity);
        if (grown == NULL) {
            errno = ENOMEM;
            return -1;
        }
        io->output = grown;
        io->output_capacity = capacity;
    }
    memcpy(io->output + io->output_count, bytes, count);
    io->output_count += count;
    return (ssize_t)count;
}

// The process-wide definitions, aliases of the static functions above, so that
// shennong_io_interposed() can compare addresses without going through the GOT.
ssize_t read(int fd, void *bytes, size_t count) __attribute__((alias("shennong_read")));
ssize_t write(int fd, const void *bytes, size_t count) __attribute__((alias("shennong_write")));

shennong_io *shennong_io_create(size_t read_capacity) {
    shennong_io *io = calloc(1, sizeof(shennong_io));
    if (io == NULL) {
        return NULL;
    }
    io->fd = -1;
    io->input_capacity = read_capacity > 0 ? read_capacity : 65536;
    io->input = malloc(io->input_capacity);
    if (io->input == NULL) {
        free(io);
        return NULL;
    }
    return io;
}

void shennong_io_destroy(shennong_io *io) {
    if (io == NULL) {
        return;
    }
    if (attached == io) {
        attached = NULL;
    }
    free(io->input);
    free(io->output);
    free(io);
}

void shennong_io_attach(shennong_io *io) { attached = io; }

void shennong_io_set_socket(shennong_io *io, int fd) {
    io->fd = fd;
    io->input_start = 0;
    io->input_end = 0;
    io->output_count = 0;
}

int shennong_io_socket(const shennong_io *io) { return io->fd; }

size_t shennong_io_buffered_input(const shennong_io *io) { return io->input_end - io->input_start; }

size_t shennong_io_captured_count(const shennong_io *io) { return io->output_count; }

size_t shennong_io_take_captured(shennong_io *io, unsigned char *out, size_t capacity) {
    size_t n = io->output_count < capacity ? io->output_count : capacity;
    memcpy(out, io->output, n);
    memmove(io->output, io->output + n, io->output_count - n);
    io->output_count -= n;
    return n;
}

ssize_t shennong_io_send(int fd, const void *bytes, size_t count) { return system_write(fd, bytes, count); }

int shennong_io_interposed(void) {
    void *found_read = dlsym(RTLD_DEFAULT, "read");
    void *found_write = dlsym(RTLD_DEFAULT, "write");
    return found_read == (void *)shennong_read && found_write == (void *)shennong_write;
}

int shennong_io_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
