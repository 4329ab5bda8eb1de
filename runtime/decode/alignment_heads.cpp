// OpenAI's alignment-head presets, decoded from whisper/__init__.py _ALIGNMENT_HEADS (v20250625);
// see alignment_heads.h.
#include "decode/alignment_heads.h"

#include <algorithm>
#include <cstdlib>

#include "util/error.h"

namespace npw {

namespace {

struct Preset {
  const char* name;
  int n_text_layer, n_text_state, n_text_head;
  const char* heads;  // "layer:head" items, as OpenAI's mask lists them (row-major)
};

const Preset kPresets[] = {
    {"tiny.en", 4, 384, 6, "1:0 2:0 2:5 3:0 3:1 3:2 3:3 3:4"},
    {"tiny", 4, 384, 6, "2:2 3:0 3:2 3:3 3:4 3:5"},
    {"base.en", 6, 512, 8, "3:3 4:7 5:1 5:5 5:7"},
    {"base", 6, 512, 8, "3:1 4:2 4:3 4:7 5:1 5:2 5:4 5:6"},
    {"small.en", 12, 768, 12, "6:6 7:0 7:3 7:8 8:2 8:5 8:7 9:0 9:4 9:8 9:10 10:0 10:1 10:2 10:3 10:6 10:11 11:2 11:4"},
    {"small", 12, 768, 12, "5:3 5:9 8:0 8:4 8:7 8:8 9:0 9:7 9:9 10:5"},
    {"medium.en", 24, 1024, 16,
     "11:4 14:1 14:12 14:14 15:4 16:0 16:4 16:9 17:12 17:14 18:7 18:10 18:15 20:0 20:3 20:9 20:14 21:12"},
    {"medium", 24, 1024, 16, "13:15 15:4 15:15 16:1 20:0 23:4"},
    {"large-v1", 32, 1280, 20, "9:19 11:2 11:4 11:17 22:7 22:11 22:17 23:2 23:15"},
    {"large-v2", 32, 1280, 20,
     "10:12 13:17 16:11 16:12 16:13 17:15 17:16 18:4 18:11 18:19 19:11 21:2 21:3 22:3 22:9 22:12 23:5 23:7 23:13 "
     "25:5 26:1 26:12 27:15"},
    {"large-v3", 32, 1280, 20, "7:0 10:17 12:18 13:12 16:1 17:14 19:11 21:4 24:1 25:6"},
    {"large-v3-turbo", 4, 1280, 20, "2:4 2:11 3:3 3:6 3:11 3:14"},
};

const Preset* find_preset(std::string name) {
  if (name == "large") name = "large-v3";
  if (name == "turbo") name = "large-v3-turbo";
  for (const Preset& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

[[noreturn]] void bad(const std::string& setting, const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, "alignment heads '" + setting + "': " + why);
}

bool parse_int(const std::string& s, int& out) {
  if (s.empty() || s.size() > 6) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  out = std::atoi(s.c_str());
  return true;
}

std::vector<AlignmentHead> parse_list(const std::string& text, const std::string& setting, const HParams& hp,
                                      char sep) {
  std::vector<AlignmentHead> heads;
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t j = text.find(sep, i);
    if (j == std::string::npos) j = text.size();
    std::string item = text.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    const std::size_t colon = item.find(':');
    AlignmentHead h;
    if (colon == std::string::npos || !parse_int(item.substr(0, colon), h.layer) ||
        !parse_int(item.substr(colon + 1), h.head))
      bad(setting, "item '" + item + "' is not LAYER:HEAD (e.g. 3:1)");
    if (h.layer >= hp.n_text_layer)
      bad(setting, "layer " + std::to_string(h.layer) + " is not a decoder layer of this model (0.." +
                       std::to_string(hp.n_text_layer - 1) + ")");
    if (h.head >= hp.n_text_head)
      bad(setting, "head " + std::to_string(h.head) + " is not a head of this model (0.." +
                       std::to_string(hp.n_text_head - 1) + ")");
    if (std::find(heads.begin(), heads.end(), h) != heads.end()) bad(setting, "head " + item + " is listed twice");
    heads.push_back(h);
    i = j + 1;
  }
  return heads;
}

}  // namespace

std::vector<std::string> alignment_preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.emplace_back(p.name);
  names.emplace_back("large");
  names.emplace_back("turbo");
  return names;
}

std::string alignment_preset_for(const HParams& hp) {
  const bool english_only = hp.n_vocab == 51864;
  if (hp.n_mels == 128 && hp.n_vocab == 51866 && hp.n_text_state == 1280 && hp.n_text_head == 20) {
    if (hp.n_text_layer == 32) return "large-v3";
    if (hp.n_text_layer == 4) return "large-v3-turbo";
    return "";
  }
  if (hp.n_mels != 80 || (hp.n_vocab != 51864 && hp.n_vocab != 51865)) return "";
  struct Size {
    int layers, state, heads;
    const char* name;
  };
  const Size sizes[] = {{4, 384, 6, "tiny"}, {6, 512, 8, "base"}, {12, 768, 12, "small"}, {24, 1024, 16, "medium"}};
  for (const Size& s : sizes) {
    if (hp.n_text_layer == s.layers && hp.n_text_state == s.state && hp.n_text_head == s.heads)
      return std::string(s.name) + (english_only ? ".en" : "");
  }
  return "";  // large-v1 and large-v2 (same dimensions), or a model OpenAI did not publish
}

std::vector<AlignmentHead> default_alignment_heads(const HParams& hp) {
  std::vector<AlignmentHead> heads;
  for (int l = hp.n_text_layer / 2; l < hp.n_text_layer; ++l)
    for (int h = 0; h < hp.n_text_head; ++h) heads.push_back({l, h});
  return heads;
}

std::vector<AlignmentHead> resolve_alignment_heads(const std::string& setting, const HParams& hp) {
  if (setting.empty() || setting == "auto") {
    const std::string preset = alignment_preset_for(hp);
    return preset.empty() ? default_alignment_heads(hp) : resolve_alignment_heads(preset, hp);
  }
  if (setting == "default") return default_alignment_heads(hp);
  if (const Preset* p = find_preset(setting)) {
    if (p->n_text_layer != hp.n_text_layer || p->n_text_state != hp.n_text_state || p->n_text_head != hp.n_text_head)
      bad(setting, "the preset is for a decoder of " + std::to_string(p->n_text_layer) + " layers, " +
                       std::to_string(p->n_text_head) + " heads, width " + std::to_string(p->n_text_state) +
                       "; this model has " + std::to_string(hp.n_text_layer) + ", " + std::to_string(hp.n_text_head) +
                       ", " + std::to_string(hp.n_text_state));
    return parse_list(p->heads, setting, hp, ' ');
  }
  if (setting.find(':') == std::string::npos) {
    std::string names;
    for (const std::string& n : alignment_preset_names()) names += (names.empty() ? "" : ", ") + n;
    bad(setting, "not auto, default, a preset (" + names + ") or a LAYER:HEAD list");
  }
  return parse_list(setting, setting, hp, ',');
}

std::string format_alignment_heads(const std::vector<AlignmentHead>& heads) {
  std::string s;
  for (const AlignmentHead& h : heads)
    s += (s.empty() ? "" : ",") + std::to_string(h.layer) + ":" + std::to_string(h.head);
  return s;
}

}  // namespace npw
