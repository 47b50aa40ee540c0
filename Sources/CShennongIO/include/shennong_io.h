#ifndef SHENNONG_IO_H
#define SHENNONG_IO_H

#include <stddef.h>
#include <sys/types.h>

/// Buffered input and held output for one MQTT ingest socket (see shennong_io.c).
typedef struct shennong_io shennong_io;

/// A new state with an input buffer of `read_capacity` bytes; NULL when out of memory.
shennong_io *shennong_io_create(size_t read_capacity);
void shennong_io_destroy(shennong_io *io);

/// Binds `io` to the calling thread (NULL unbinds): from now on this thread's `read` of the
/// socket set with shennong_io_set_socket is served from the input buffer and its `write` to
/// that socket is captured instead of sent.
void shennong_io_attach(shennong_io *io);

/// The socket to buffer and capture (-1: none). Drops buffered input and captured output.
void shennong_io_set_socket(shennong_io *io, int fd);
int shennong_io_socket(const shennong_io *io);

/// Bytes read from the socket but not yet consumed by libmosquitto.
size_t shennong_io_buffered_input(const shennong_io *io);

/// Bytes libmosquitto wrote to the socket since the last take; they have not been sent.
size_t shennong_io_captured_count(const shennong_io *io);
/// Copies the captured bytes to `out` (at most `capacity`), removes them; returns the count.
size_t shennong_io_take_captured(shennong_io *io, unsigned char *out, size_t capacity);

/// Writes to `fd` with the write system call itself, never captured; -1 and errno on failure.
ssize_t shennong_io_send(int fd, const void *bytes, size_t count);

/// A non-blocking, close-on-exec eventfd (one thread's wake-up for another's poll); -1 on failure.
int shennong_io_eventfd(void);

/// 1 when the dynamic linker resolves `read` and `write` to this file's definitions (so
/// libmosquitto's calls come here), 0 otherwise.
int shennong_io_interposed(void);

#endif
