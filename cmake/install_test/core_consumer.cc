// Links the core module alone: parsing and printing need nothing else.
#include <iostream>

#include "xlayout/shape_parser.h"

int main() {
  auto shape = xlayout::ParseShape("bf16[16,1280,40]{2,1,0:T(8,128)(2,1)}");
  if (!shape.ok()) {
    std::cerr << shape.status() << "\n";
    return 1;
  }
  std::cout << shape->ToString() << "\n";
  return 0;
}
