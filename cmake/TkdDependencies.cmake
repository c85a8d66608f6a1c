# Every third-party dependency, found once. All come from Debian 12 (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# Debian's LibTorch; any other (e.g. a CUDA build) via -DTorch_DIR=/path/share/cmake/Torch.
find_package(Torch REQUIRED)

pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SAMPLERATE REQUIRED IMPORTED_TARGET samplerate)
pkg_check_modules(PORTAUDIO REQUIRED IMPORTED_TARGET portaudio-2.0)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
# The tkd command line parser (header-only; Debian: libcli11-dev).
find_package(CLI11 2.1 REQUIRED)
# Debian's ONNX library (libonnx-dev): protobuf model, checker, shape inference for `tkd export
# --format onnx`. Its targets need protobuf's.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)

# espeak-ng ships no pkg-config file on Debian 12.
find_path(ESPEAKNG_INCLUDE_DIR espeak-ng/speak_lib.h REQUIRED)
find_library(ESPEAKNG_LIBRARY espeak-ng REQUIRED)
add_library(tkd_espeakng INTERFACE)
target_include_directories(tkd_espeakng INTERFACE ${ESPEAKNG_INCLUDE_DIR})
target_link_libraries(tkd_espeakng INTERFACE ${ESPEAKNG_LIBRARY})

# flite (Debian: flite1-dev), the built-in corpus's second voice family: its five US English voices
# are libraries of their own, linked beside the engine, its lexicon and its English front end.
find_path(FLITE_INCLUDE_DIR flite/flite.h REQUIRED)
add_library(tkd_flite INTERFACE)
target_include_directories(tkd_flite INTERFACE ${FLITE_INCLUDE_DIR})
foreach(_lib flite_cmu_us_kal flite_cmu_us_kal16 flite_cmu_us_awb flite_cmu_us_rms flite_cmu_us_slt
             flite_usenglish flite_cmulex flite)
  find_library(_path_${_lib} ${_lib} REQUIRED)
  target_link_libraries(tkd_flite INTERFACE ${_path_${_lib}})
endforeach()

if(TKD_BUILD_GUI OR TKD_BUILD_TESTS)
  set(_qt_components Core Test)
  if(TKD_BUILD_GUI)
    list(APPEND _qt_components Gui Widgets Svg PrintSupport)
  endif()
  find_package(Qt6 REQUIRED COMPONENTS ${_qt_components})
  set(CMAKE_AUTOMOC ON)
  set(CMAKE_AUTORCC ON)
endif()
if(TKD_BUILD_GUI)
  find_package(QCustomPlotQt6 REQUIRED)
endif()
