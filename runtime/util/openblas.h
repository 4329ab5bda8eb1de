// OpenBLAS, opened the first time an f32 product asks for it rather than when the program or the
// GStreamer plugin is loaded. On AVX-512 CPUs every product of the CPU backends is our own kernel,
// so a transcription never calls it; linked, OpenBLAS (with its Fortran runtime) still cost every
// process 2.2 MiB of resident pages and a worker thread from the moment it was loaded, registry
// scans and gst-inspect included. The library opened is the one the build was configured against
// (pkg-config's libdir), then the system's libopenblas.so.0; NPW_OPENBLAS names another file.
#pragma once

namespace npw::openblas {

// C = alpha op(A) op(B) + beta C, row-major, on the calling thread (OpenBLAS is held at one thread
// unless set_threads says otherwise). Opens the library on first use; throws npw::Error
// (Unavailable) naming the file and the loader's reason when it cannot.
void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc);

// OpenBLAS's own thread count (the bench's ceilings); opens the library like sgemm.
void set_threads(int n);

// openblas_get_config() and openblas_get_corename() ("" when this OpenBLAS lacks them); open the library.
const char* config();
const char* corename();

// Whether this process has opened it (by this loader or otherwise), without opening it.
bool loaded();

}  // namespace npw::openblas
