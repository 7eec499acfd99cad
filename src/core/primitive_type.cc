#include "xlayout/primitive_type.h"

#include <array>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"

namespace xlayout {
namespace {

struct TypeInfo {
  PrimitiveType type;
  const char* name;
  int bits;  // 0 for non-array types.
};

// Bit widths follow primitive_util.h: integers digits+sign, pred 1, floats
// and complex sizeof*8, MX types their kBits.
constexpr TypeInfo kTypes[] = {
    {PrimitiveType::kPred, "pred", 1},
    {PrimitiveType::kS8, "s8", 8},
    {PrimitiveType::kS16, "s16", 16},
    {PrimitiveType::kS32, "s32", 32},
    {PrimitiveType::kS64, "s64", 64},
    {PrimitiveType::kU8, "u8", 8},
    {PrimitiveType::kU16, "u16", 16},
    {PrimitiveType::kU32, "u32", 32},
    {PrimitiveType::kU64, "u64", 64},
    {PrimitiveType::kF16, "f16", 16},
    {PrimitiveType::kF32, "f32", 32},
    {PrimitiveType::kF64, "f64", 64},
    {PrimitiveType::kTuple, "tuple", 0},
    {PrimitiveType::kOpaque, "opaque", 0},
    {PrimitiveType::kC64, "c64", 64},
    {PrimitiveType::kBF16, "bf16", 16},
    {PrimitiveType::kToken, "token", 0},
    {PrimitiveType::kC128, "c128", 128},
    {PrimitiveType::kF8E5M2, "f8e5m2", 8},
    {PrimitiveType::kF8E4M3FN, "f8e4m3fn", 8},
    {PrimitiveType::kS4, "s4", 4},
    {PrimitiveType::kU4, "u4", 4},
    {PrimitiveType::kF8E4M3B11FNUZ, "f8e4m3b11fnuz", 8},
    {PrimitiveType::kF8E5M2FNUZ, "f8e5m2fnuz", 8},
    {PrimitiveType::kF8E4M3FNUZ, "f8e4m3fnuz", 8},
    {PrimitiveType::kS2, "s2", 2},
    {PrimitiveType::kU2, "u2", 2},
    {PrimitiveType::kF8E4M3, "f8e4m3", 8},
    {PrimitiveType::kF8E3M4, "f8e3m4", 8},
    {PrimitiveType::kS1, "s1", 1},
    {PrimitiveType::kU1, "u1", 1},
    {PrimitiveType::kF4E2M1FN, "f4e2m1fn", 4},
    {PrimitiveType::kF8E8M0FNU, "f8e8m0fnu", 8},
    {PrimitiveType::kBuffer, "buffer", 0},
    {PrimitiveType::kF6E3M2FN, "f6e3m2fn", 6},
    {PrimitiveType::kF6E2M3FN, "f6e2m3fn", 6},
};

const TypeInfo* Find(PrimitiveType type) {
  for (const TypeInfo& info : kTypes) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

}  // namespace

absl::string_view PrimitiveTypeName(PrimitiveType type) {
  const TypeInfo* info = Find(type);
  return info == nullptr ? "invalid" : info->name;
}

std::string PrimitiveTypeEnumName(PrimitiveType type) {
  const TypeInfo* info = Find(type);
  if (info == nullptr) return "PRIMITIVE_TYPE_INVALID";
  if (type == PrimitiveType::kOpaque) return "OPAQUE_TYPE";
  return absl::AsciiStrToUpper(info->name);
}

std::optional<PrimitiveType> PrimitiveTypeFromName(absl::string_view name) {
  static const auto* const kByName = [] {
    auto* map = new absl::flat_hash_map<std::string, PrimitiveType>();
    for (const TypeInfo& info : kTypes) {
      // `tuple` and `buffer` are spelled with parentheses, never as a type.
      if (info.type == PrimitiveType::kTuple ||
          info.type == PrimitiveType::kBuffer)
        continue;
      map->emplace(info.name, info.type);
    }
    return map;
  }();
  auto it = kByName->find(name);
  if (it == kByName->end()) return std::nullopt;
  return it->second;
}

bool IsArrayType(PrimitiveType type) {
  const TypeInfo* info = Find(type);
  return info != nullptr && info->bits > 0;
}

bool IsUnsignedIntegralType(PrimitiveType type) {
  switch (type) {
    case PrimitiveType::kU1:
    case PrimitiveType::kU2:
    case PrimitiveType::kU4:
    case PrimitiveType::kU8:
    case PrimitiveType::kU16:
    case PrimitiveType::kU32:
    case PrimitiveType::kU64:
      return true;
    default:
      return false;
  }
}

bool IsIntegralType(PrimitiveType type) {
  switch (type) {
    case PrimitiveType::kS1:
    case PrimitiveType::kS2:
    case PrimitiveType::kS4:
    case PrimitiveType::kS8:
    case PrimitiveType::kS16:
    case PrimitiveType::kS32:
    case PrimitiveType::kS64:
      return true;
    default:
      return IsUnsignedIntegralType(type);
  }
}

bool IsComplexType(PrimitiveType type) {
  return type == PrimitiveType::kC64 || type == PrimitiveType::kC128;
}

bool IsFloatingPointType(PrimitiveType type) {
  return IsArrayType(type) && !IsIntegralType(type) && !IsComplexType(type) &&
         type != PrimitiveType::kPred;
}

bool IsSubByteNonPredType(PrimitiveType type) {
  return IsArrayType(type) && type != PrimitiveType::kPred &&
         BitWidth(type) < 8;
}

int BitWidth(PrimitiveType type) {
  const TypeInfo* info = Find(type);
  return info == nullptr ? 0 : info->bits;
}

int ByteWidth(PrimitiveType type) { return (BitWidth(type) + 7) / 8; }

const std::vector<PrimitiveType>& AllArrayTypes() {
  static const auto* const kAll = [] {
    auto* all = new std::vector<PrimitiveType>();
    for (const TypeInfo& info : kTypes) {
      if (info.bits > 0) all->push_back(info.type);
    }
    return all;
  }();
  return *kAll;
}

}  // namespace xlayout
