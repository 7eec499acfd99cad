# xlayout_library(NAME SOURCES... [DEPS targets...] [PRIVATE_DEPS targets...])
# One module: a static library xlayout_NAME (alias xlayout::NAME) built from
# the sources beside the calling CMakeLists.txt. DEPS are public (their types
# appear in our headers); PRIVATE_DEPS are implementation details.
function(xlayout_library name)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  set(target xlayout_${name})
  if(ARG_UNPARSED_ARGUMENTS)
    add_library(${target} STATIC ${ARG_UNPARSED_ARGUMENTS})
    set(scope PUBLIC)
  else()
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(xlayout::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(${target} ${scope}
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  if(scope STREQUAL PUBLIC)
    target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  else()
    target_include_directories(${target} INTERFACE
      $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
  endif()
  target_link_libraries(${target} ${scope} ${ARG_DEPS})
  if(ARG_PRIVATE_DEPS)
    target_link_libraries(${target} PRIVATE ${ARG_PRIVATE_DEPS})
  endif()
  set_property(GLOBAL APPEND PROPERTY XLAYOUT_LIBRARIES ${target})
endfunction()

# xlayout_test(NAME SOURCES... [DEPS targets...] [LABELS l...])
# A gtest binary linked against DEPS (default: the umbrella library), gmock
# and RapidCheck, run by ctest. A missing source is an error.
function(xlayout_test name)
  if(NOT XLAYOUT_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "LABELS;DEPS" ${ARGN})
  foreach(src ${ARG_UNPARSED_ARGUMENTS})
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
      message(FATAL_ERROR "test ${name}: missing source ${src}")
    endif()
  endforeach()
  if(NOT ARG_DEPS)
    set(ARG_DEPS xlayout)
  endif()
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock
                        GTest::gtest_main rapidcheck rapidcheck_gtest)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${name} PRIVATE
    XLAYOUT_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/testdata"
    XLAYOUT_EXAMPLES_DIR="${PROJECT_SOURCE_DIR}/examples")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "RC_PARAMS=max_success=300")
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# xlayout_fuzzer(NAME SOURCE): a libFuzzer target; scripts/test runs it for a bounded time.
function(xlayout_fuzzer name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE xlayout)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()

# xlayout_benchmark(NAME SOURCES...): a Google Benchmark binary.
function(xlayout_benchmark name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE xlayout benchmark::benchmark)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
endfunction()
