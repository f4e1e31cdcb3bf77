#include "probe/io/tls_info.hpp"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "probe/base/utf8.hpp"

namespace envprobe {

namespace {

// The nine attribute types Go names; a parsed certificate's values of these types go into named
// fields, the others are printed first, in order, as hex DER.
const char* goTypeName(const std::string& oid) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"2.5.4.6", "C"},  {"2.5.4.10", "O"},           {"2.5.4.11", "OU"},
      {"2.5.4.3", "CN"}, {"2.5.4.5", "SERIALNUMBER"}, {"2.5.4.7", "L"},
      {"2.5.4.8", "ST"}, {"2.5.4.9", "STREET"},       {"2.5.4.17", "POSTALCODE"}};
  for (const auto& [dotted, name] : kNames)
    if (oid == dotted) return name;
  return nullptr;
}

// encoding/asn1's PrintableString alphabet (marshalling: no '*', no '&').
bool isPrintable(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c >= '\'' && c <= ')') || (c >= '+' && c <= '/') || c == ' ' || c == ':' || c == '=' ||
         c == '?';
}

// asn1.Marshal of a Go string: a PrintableString when every byte is printable, else a
// UTF8String; DER length in short or long form.
std::string derOfString(const std::string& value) {
  const bool printable = std::all_of(value.begin(), value.end(), [](char c) {
    return isPrintable(static_cast<unsigned char>(c));
  });
  std::string der(1, printable ? '\x13' : '\x0c');
  const std::size_t length = value.size();
  if (length < 0x80) {
    der += static_cast<char>(length);
  } else {
    std::string bytes;
    for (std::size_t n = length; n > 0; n >>= 8)
      bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
    der += static_cast<char>(0x80 | bytes.size());
    der += bytes;
  }
  return der + value;
}

std::string escapeValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t k = 0; k < value.size(); ++k) {
    const char c = value[k];
    bool escape = false;
    switch (c) {
      case ',':
      case '+':
      case '"':
      case '\\':
      case '<':
      case '>':
      case ';':
        escape = true;
        break;
      case ' ':
        escape = k == 0 || k + 1 == value.size();
        break;
      case '#':
        escape = k == 0;
        break;
      default:
        break;
    }
    if (escape) out += '\\';
    out += c;
  }
  return out;
}

std::string asn1Bytes(const ASN1_STRING* s) {
  if (!s) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(std::max(0, ASN1_STRING_length(s))));
}

std::string dottedOid(const ASN1_OBJECT* obj) {
  char small[80];
  const int n = OBJ_obj2txt(small, sizeof small, obj, 1);
  if (n <= 0) return "?";
  if (static_cast<std::size_t>(n) < sizeof small) return small;
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  OBJ_obj2txt(big.data(), static_cast<int>(big.size()), obj, 1);
  big.resize(static_cast<std::size_t>(n));
  return big;
}

// A name's value as UTF-8 (BMPString, UniversalString and T61String converted); raw bytes made
// valid when OpenSSL cannot convert them. Bounded early: a value longer than a label is cut anyway.
std::string utf8Value(const ASN1_STRING* data) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, data);
  std::string value;
  if (n >= 0 && utf8)
    value.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
  else
    value = asn1Bytes(data);
  OPENSSL_free(utf8);
  return boundedLabelValue(value);
}

std::string nameString(const X509_NAME* name) {
  std::vector<DnAttribute> attributes;
  const int count = name ? X509_NAME_entry_count(name) : 0;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    attributes.push_back(
        {dottedOid(X509_NAME_ENTRY_get_object(entry)), utf8Value(X509_NAME_ENTRY_get_data(entry))});
  }
  return boundedLabelValue(formatDistinguishedName(attributes));
}

std::string dnsNames(X509* leaf) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return {};
  std::string joined;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_DNS) continue;
    if (!joined.empty()) joined += ',';
    joined += asn1Bytes(name->d.dNSName);
    if (joined.size() > TlsFacts::kMaxTlsLabelBytes) break;  // cut below anyway
  }
  GENERAL_NAMES_free(names);
  return boundedLabelValue(joined);
}

// big.Int.Bytes() in hex: magnitude, no leading zero bytes ("" for zero).
std::string serialHex(X509* leaf) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), nullptr), &BN_free);
  if (!bn) return {};
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(bytes.data()));
  return boundedLabelValue(lowerHex(bytes));
}

}  // namespace

std::int64_t notAfterUnix(X509* cert) {
  const ASN1_TIME* notAfter = X509_get0_notAfter(cert);
  std::tm tm{};
  if (!notAfter || ASN1_TIME_to_tm(notAfter, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string tlsVersionName(int protocolVersion) {
  switch (protocolVersion) {
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
    default:
      return "unknown";
  }
}

std::string formatDistinguishedName(const std::vector<DnAttribute>& attributes) {
  std::vector<std::string> rdns;  // Go's RDN sequence, each already printed
  for (const auto& a : attributes)
    if (!goTypeName(a.oid)) rdns.push_back(a.oid + "=#" + lowerHex(derOfString(a.value)));
  // Multi-valued fields, in ToRDNSequence's order: one RDN per type, its values joined by '+'.
  for (const char* oid :
       {"2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.9", "2.5.4.17", "2.5.4.10", "2.5.4.11"}) {
    std::string rdn;
    for (const auto& a : attributes) {
      if (a.oid != oid) continue;
      if (!rdn.empty()) rdn += '+';
      rdn += std::string(goTypeName(oid)) + "=" + escapeValue(a.value);
    }
    if (!rdn.empty()) rdns.push_back(std::move(rdn));
  }
  // Single-valued fields: the last value wins, an empty one is left out.
  for (const char* oid : {"2.5.4.3", "2.5.4.5"}) {
    const std::string* last = nullptr;
    for (const auto& a : attributes)
      if (a.oid == oid) last = &a.value;
    if (last && !last->empty())
      rdns.push_back(std::string(goTypeName(oid)) + "=" + escapeValue(*last));
  }
  std::string out;
  for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
    if (!out.empty()) out += ',';
    out += *it;
  }
  return out;
}

std::string boundedLabelValue(std::string_view bytes, std::size_t maxBytes) {
  std::string valid = makeValidUtf8(bytes.substr(0, std::min(bytes.size(), 4 * maxBytes + 4)));
  if (valid.size() <= maxBytes) return valid;
  static const std::string kEllipsis = "\xe2\x80\xa6";  // U+2026
  std::size_t cut = maxBytes > kEllipsis.size() ? maxBytes - kEllipsis.size() : 0;
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xc0) == 0x80) --cut;
  valid.resize(cut);
  return maxBytes >= kEllipsis.size() ? valid + kEllipsis : valid;
}

std::string lowerHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

void readLeafCertificate(X509* leaf, TlsFacts& facts) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(leaf, EVP_sha256(), md, &length) == 1)
    facts.fingerprintSha256 = lowerHex(std::string_view(reinterpret_cast<char*>(md), length));
  facts.subject = nameString(X509_get_subject_name(leaf));
  facts.issuer = nameString(X509_get_issuer_name(leaf));
  facts.subjectAlternative = dnsNames(leaf);
  facts.serialNumber = serialHex(leaf);
}

void readTlsFacts(CURL* easy, TlsFacts& facts) {
  curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info) return;
  if (info->backend != CURLSSLBACKEND_OPENSSL || !info->internals) return;
  auto* ssl = static_cast<SSL*>(info->internals);
  facts = TlsFacts{};
  facts.present = true;
  facts.version = tlsVersionName(SSL_version(ssl));
  if (X509* leaf = SSL_get0_peer_certificate(ssl)) readLeafCertificate(leaf, facts);
  // Go has verified chains only when it verified (not with insecure_skip_verify); OpenSSL
  // verifies either way, so its chain counts only where curl asked for verification.
  if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) && SSL_get_verify_result(ssl) == X509_V_OK) {
    if (STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl)) {
      for (int i = 0; i < sk_X509_num(chain); ++i) {
        const std::int64_t expiry = notAfterUnix(sk_X509_value(chain, i));
        if (expiry == 0) continue;
        if (!facts.chainVerified || expiry < facts.lastChainExpiryUnix)
          facts.lastChainExpiryUnix = expiry;
        facts.chainVerified = true;
      }
    }
  }
}

}  // namespace envprobe
