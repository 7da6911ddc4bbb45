# Target-scoped warnings (never edit CMAKE_CXX_FLAGS globally).
add_library(crimecast_warnings INTERFACE)
add_library(crimecast::warnings ALIAS crimecast_warnings)
target_compile_options(crimecast_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wconversion -Wno-sign-conversion -Wno-missing-field-initializers>
  $<$<BOOL:${CRIMECAST_WERROR}>:-Werror>)
