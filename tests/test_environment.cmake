# Read by CTest before it runs a test (TEST_INCLUDE_FILES, the top-level
# CMakeLists.txt): the environment every test, and every process it starts, inherits.
#
# OpenMP threads wait passively. `ctest -j 2` on two cores runs two LibTorch
# processes at once, each with its own OpenMP threads (LibTorch's and
# OpenBLAS's); spinning, they took each other's cores: the real-data training
# test took 127 s beside another training process and 69 s waiting passively
# (29 s alone). A value set by the caller is kept.
if(NOT DEFINED ENV{OMP_WAIT_POLICY})
  set(ENV{OMP_WAIT_POLICY} PASSIVE)
endif()
