# ASan + UBSan as an INTERFACE target every crimecast target links, so the asan preset
# instruments our code without touching global flags.
add_library(crimecast_sanitizers INTERFACE)
add_library(crimecast::sanitizers ALIAS crimecast_sanitizers)
if(CRIMECAST_SANITIZE)
  target_compile_options(crimecast_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(crimecast_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
