# Packaging of weft for C users: libweft.so (soname libweft.so.<WEFT_ABI_VERSION>) and libweft.a,
# each holding every layer, installed with include/weft.h, a pkg-config file and a CMake package
# (find_package(weft) -> weft::weft, weft::weft_static). Included by the top-level CMakeLists.txt.
#
# Only the C ABI leaves the shared library: the layers are compiled with hidden visibility, a
# linker version script keeps weft_* global and everything else local, and --exclude-libs keeps
# the symbols of statically linked archives (libstdc++, libgcc) out of the dynamic symbol table.
# tools/check-abi.sh verifies the result.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(WEFT_STATIC_LIBSTDCXX
  "Link libstdc++ into libweft.so statically, so C users need no C++ runtime" ON)

get_target_property(_weft_capi_type weft_capi TYPE)
if(_weft_capi_type STREQUAL "INTERFACE_LIBRARY")
  message(STATUS "weft packaging: src/capi has no sources yet; libweft is not built")
  return()
endif()

# The ABI version lives in the header (the contract); the soname follows it.
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/include-c/weft.h _weft_abi_line
  REGEX "^#define WEFT_ABI_VERSION [0-9]+$")
if(NOT _weft_abi_line)
  message(FATAL_ERROR "weft packaging: no '#define WEFT_ABI_VERSION <n>' in include-c/weft.h")
endif()
string(REGEX REPLACE "^#define WEFT_ABI_VERSION ([0-9]+)$" "\\1"
  WEFT_ABI_VERSION "${_weft_abi_line}")
foreach(_part MAJOR MINOR PATCH)
  file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/include-c/weft.h _line
    REGEX "^#define WEFT_VERSION_${_part} [0-9]+$")
  string(REGEX REPLACE "^.* ([0-9]+)$" "\\1" _weft_header_${_part} "${_line}")
endforeach()
set(_weft_header_version "${_weft_header_MAJOR}.${_weft_header_MINOR}.${_weft_header_PATCH}")
if(NOT _weft_header_version STREQUAL PROJECT_VERSION)
  message(WARNING "weft.h says version ${_weft_header_version}, the project ${PROJECT_VERSION}")
endif()

# Every layer that has sources, top to bottom.
set(_weft_layers)
foreach(_layer capi node noise yamux protocols mss crypto multiformats base asio)
  get_target_property(_type weft_${_layer} TYPE)
  if(_type STREQUAL "STATIC_LIBRARY")
    list(APPEND _weft_layers weft_${_layer})
  endif()
endforeach()
set_target_properties(${_weft_layers} PROPERTIES
  C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
set(_weft_objects)
foreach(_layer ${_weft_layers})
  list(APPEND _weft_objects $<TARGET_OBJECTS:${_layer}>)
endforeach()

# What a program linking the static library needs besides libweft.a: the crypto library, the
# C++ runtime (weft is C++ inside) and threads.
if(WEFT_CRYPTO STREQUAL "openssl")
  set(_weft_crypto_link OpenSSL::Crypto)
  set(WEFT_PC_REQUIRES_PRIVATE "libcrypto >= 3.0")
  set(WEFT_PC_LIBS_PRIVATE "-lstdc++ -lm -pthread")
else()
  get_filename_component(_bssl_dir ${BORINGSSL_CRYPTO_LIBRARY} DIRECTORY)
  set(_weft_crypto_link ${BORINGSSL_CRYPTO_LIBRARY})
  set(WEFT_PC_REQUIRES_PRIVATE "")
  set(WEFT_PC_LIBS_PRIVATE
    "-L${_bssl_dir} -Wl,-rpath,${_bssl_dir} -lcrypto -lstdc++ -lm -pthread")
endif()

# ---- libweft.so ---------------------------------------------------------------
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/weft.map.in ${CMAKE_CURRENT_BINARY_DIR}/weft.map
  @ONLY)
add_library(weft_shared SHARED ${_weft_objects})
set_target_properties(weft_shared PROPERTIES
  OUTPUT_NAME weft
  VERSION ${PROJECT_VERSION}
  SOVERSION ${WEFT_ABI_VERSION}
  LINKER_LANGUAGE CXX
  LINK_DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/weft.map)
target_include_directories(weft_shared INTERFACE
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include-c>)
target_link_libraries(weft_shared PRIVATE weft_crypto_backend Threads::Threads)
target_link_options(weft_shared PRIVATE
  "LINKER:--version-script=${CMAKE_CURRENT_BINARY_DIR}/weft.map"
  "LINKER:--exclude-libs,ALL"
  "LINKER:--gc-sections"
  "LINKER:-z,relro,-z,now"
  "LINKER:--as-needed")
# Sanitizer builds leave the sanitizer runtime to the executable (undefined symbols here) and
# need the shared C++ runtime, whose allocation functions the sanitizers replace.
if(NOT WEFT_SANITIZE)
  target_link_options(weft_shared PRIVATE "LINKER:--no-undefined")
  if(WEFT_STATIC_LIBSTDCXX)
    target_link_options(weft_shared PRIVATE -static-libstdc++ -static-libgcc)
  endif()
endif()

# ---- libweft.a ------------------------------------------------------------------
add_library(weft_static STATIC ${_weft_objects})
set_target_properties(weft_static PROPERTIES OUTPUT_NAME weft LINKER_LANGUAGE CXX)
target_include_directories(weft_static INTERFACE
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include-c>)
target_link_libraries(weft_static INTERFACE ${_weft_crypto_link} Threads::Threads)

# In-tree users (bindings, tests) name the libraries as installed users do.
add_library(weft::weft ALIAS weft_shared)
add_library(weft::weft_static ALIAS weft_static)

# ---- install ------------------------------------------------------------------
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/include-c/weft.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT weft)
install(TARGETS weft_shared weft_static
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT weft NAMELINK_COMPONENT weft
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT weft)

# pkg-config: the prefix is found from the .pc file's own place (${pcfiledir}), so the installed
# tree may be moved or installed with `cmake --install --prefix` elsewhere than configured.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(WEFT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _weft_up "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
  set(WEFT_PC_PREFIX "\${pcfiledir}/${_weft_up}")
endif()
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(WEFT_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(WEFT_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/pkgconfig/weft.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/weft.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/pkgconfig/weft.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT weft)

# CMake package: a hand-written config (the imported targets are simple, and the static one
# must name its dependencies the way the installed machine finds them).
set(WEFT_CMAKE_CRYPTO ${WEFT_CRYPTO})
set(WEFT_CMAKE_BORINGSSL_LIBRARY "${BORINGSSL_CRYPTO_LIBRARY}")
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/weftConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cmake/weftConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/weft
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
# Until the ABI reaches 1, a minor release may change it: SameMinorVersion then.
if(WEFT_ABI_VERSION EQUAL 0)
  set(_weft_compat SameMinorVersion)
else()
  set(_weft_compat SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cmake/weftConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${_weft_compat})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cmake/weftConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/cmake/weftConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/weft COMPONENT weft)
