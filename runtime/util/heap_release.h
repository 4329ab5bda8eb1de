// Gives the C allocator's free memory back to the system once a stream has been torn down. A stopped
// element frees its transcriber and, with its last user, the model; the buffers below AlignedBuffer's
// mapping threshold (a base model's 512 x 512 weights, the pools' smaller scratch) were malloc'd, and
// glibc keeps such freed chunks resident in its arenas: an application that stopped a pipeline of the
// bundled test model still held 16 MiB for nobody, 42 MiB after a base model.
#pragma once

namespace npw {

// Returns freed heap pages to the system where the C library can (glibc's malloc_trim: every arena,
// free pages inside the heap too, not only its top); elsewhere does nothing. Takes the allocator's
// arena locks for a few milliseconds: for teardown paths, never per window.
void release_free_heap();

}  // namespace npw
