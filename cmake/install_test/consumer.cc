// Uses the whole installed library: parse a shape and compute its sizes.
#include <iostream>

#include "xlayout/shape_parser.h"
#include "xlayout/size.h"

int main() {
  auto shape = xlayout::ParseShape("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  if (!shape.ok()) return 1;
  auto bytes = xlayout::XlaBytes(*shape);
  if (!bytes.ok() || *bytes != 5242880) {
    std::cerr << "unexpected size\n";
    return 1;
  }
  std::cout << "xla_bytes " << *bytes << "\n";
  return 0;
}
