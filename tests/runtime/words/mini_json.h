// A small JSON reader for the golden word files (objects, arrays, strings with \u escapes, numbers,
// literals): the tests compare our word times with OpenAI's without a JSON library dependency.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace npwtest {

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::map<std::string, Json> obj;

  const Json& operator[](const std::string& k) const {
    auto it = obj.find(k);
    if (it == obj.end()) throw std::runtime_error("json: no key " + k);
    return it->second;
  }
  bool has(const std::string& k) const { return obj.count(k) > 0; }
  std::vector<int> ints() const {
    std::vector<int> v;
    for (const Json& j : arr) v.push_back(static_cast<int>(j.num));
    return v;
  }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Json parse() {
    Json j = value();
    ws();
    if (i_ != s_.size()) fail("trailing text");
    return j;
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw std::runtime_error("json: " + why + " at " + std::to_string(i_)); }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    unsigned v = static_cast<unsigned>(std::strtoul(s_.substr(i_, 4).c_str(), nullptr, 16));
    i_ += 4;
    return v;
  }
  std::string string() {
    std::string out;
    ++i_;  // opening quote
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(i_, 2, "\\u") == 0) {
            i_ += 2;
            unsigned lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: out += e;
      }
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  Json value() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    Json j;
    const char c = s_[i_];
    if (c == '{') {
      j.kind = Json::Object;
      ++i_;
      ws();
      if (s_[i_] == '}') {
        ++i_;
        return j;
      }
      for (;;) {
        ws();
        std::string k = string();
        ws();
        if (s_[i_++] != ':') fail("expected :");
        j.obj[k] = value();
        ws();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_++] != '}') fail("expected }");
        return j;
      }
    }
    if (c == '[') {
      j.kind = Json::Array;
      ++i_;
      ws();
      if (s_[i_] == ']') {
        ++i_;
        return j;
      }
      for (;;) {
        j.arr.push_back(value());
        ws();
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_++] != ']') fail("expected ]");
        return j;
      }
    }
    if (c == '"') {
      j.kind = Json::String;
      j.str = string();
      return j;
    }
    if (s_.compare(i_, 4, "true") == 0) {
      j.kind = Json::Bool;
      j.b = true;
      i_ += 4;
      return j;
    }
    if (s_.compare(i_, 5, "false") == 0) {
      j.kind = Json::Bool;
      i_ += 5;
      return j;
    }
    if (s_.compare(i_, 4, "null") == 0) {
      i_ += 4;
      return j;
    }
    char* end = nullptr;
    j.kind = Json::Number;
    j.num = std::strtod(s_.c_str() + i_, &end);
    if (end == s_.c_str() + i_) fail("bad value");
    i_ = static_cast<std::size_t>(end - s_.c_str());
    return j;
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

inline Json read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  return JsonParser(text).parse();
}

}  // namespace npwtest
