#include "probe/io/tls_info.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "probe/base/utf8.hpp"

using envprobe::boundedLabelValue;
using envprobe::DnAttribute;
using envprobe::formatDistinguishedName;
using envprobe::tlsVersionName;

namespace {

const char* kCN = "2.5.4.3";
const char* kO = "2.5.4.10";
const char* kOU = "2.5.4.11";
const char* kC = "2.5.4.6";
const char* kSerial = "2.5.4.5";
const char* kEmail = "1.2.840.113549.1.9.1";

struct CertDeleter {
  void operator()(X509* x) const { X509_free(x); }
};
using CertPtr = std::unique_ptr<X509, CertDeleter>;

void addEntry(X509_NAME* name, const char* field, int type, const std::string& bytes) {
  REQUIRE(X509_NAME_add_entry_by_txt(name, field, type,
                                     reinterpret_cast<const unsigned char*>(bytes.data()),
                                     static_cast<int>(bytes.size()), -1, 0) == 1);
}

// A self-signed certificate whose subject holds what a hostile target could send.
CertPtr hostileCert(const std::string& cn, const std::string& longOu) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key);
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  BIGNUM* serial = nullptr;
  BN_hex2bn(&serial, "0A1B2C");
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  addEntry(subject, "C", MBSTRING_ASC, "DE");
  addEntry(subject, "O", MBSTRING_UTF8, "Acme, Inc. \xc3\xa4");
  addEntry(subject, "OU", V_ASN1_UTF8STRING, longOu);  // longer than the 64 allowed
  // A BIT STRING: OpenSSL keeps its bytes as sent and cannot convert them (it refuses a
  // UTF8String that is not UTF-8 while parsing, so that one never reaches a probe).
  addEntry(subject, "CN", V_ASN1_BIT_STRING, cn);
  addEntry(subject, "emailAddress", MBSTRING_ASC, "ops@example.test");
  X509_NAME* issuer = X509_get_issuer_name(cert.get());
  addEntry(issuer, "O", MBSTRING_ASC, "Test CA");
  addEntry(issuer, "CN", MBSTRING_ASC, "Test Root");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name,
                                            "DNS:a.test,IP:127.0.0.1,DNS:b.test");
  REQUIRE(san);
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) != 0);
  EVP_PKEY_free(key);
  // As received: through DER and back.
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  REQUIRE(length > 0);
  const unsigned char* p = der;
  CertPtr received(d2i_X509(nullptr, &p, length));
  OPENSSL_free(der);
  REQUIRE(received);
  return received;
}

std::string sha256OfDer(X509* cert) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  REQUIRE(length > 0);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdLength = 0;
  REQUIRE(EVP_Digest(der, static_cast<std::size_t>(length), md, &mdLength, EVP_sha256(), nullptr) ==
          1);
  OPENSSL_free(der);
  return envprobe::lowerHex(std::string_view(reinterpret_cast<char*>(md), mdLength));
}

}  // namespace

TEST_CASE("tls info: Go's names of TLS versions", "[tls_info]") {
  CHECK(tlsVersionName(0x0304) == "TLS 1.3");
  CHECK(tlsVersionName(0x0303) == "TLS 1.2");
  CHECK(tlsVersionName(0x0302) == "TLS 1.1");
  CHECK(tlsVersionName(0x0301) == "TLS 1.0");
  CHECK(tlsVersionName(0x0300) == "unknown");  // SSL 3.0
  CHECK(tlsVersionName(0xfeff) == "unknown");  // DTLS 1.0
  CHECK(tlsVersionName(0) == "unknown");
}

TEST_CASE("tls info: distinguished names as Go prints them", "[tls_info]") {
  // Reversed: the last RDN first.
  CHECK(formatDistinguishedName({{kC, "US"}, {kO, "Let's Encrypt"}, {kCN, "R3"}}) ==
        "CN=R3,O=Let's Encrypt,C=US");
  // Go's field order, whatever the certificate's: C, ST, L, STREET, POSTALCODE, O, OU, CN,
  // SERIALNUMBER (then reversed); one type's values share one RDN.
  CHECK(formatDistinguishedName({{kCN, "x"},
                                 {kOU, "b1"},
                                 {kO, "a"},
                                 {kOU, "b2"},
                                 {kC, "DE"},
                                 {"2.5.4.7", "Berlin"},
                                 {"2.5.4.8", "BE"},
                                 {kSerial, "42"}}) ==
        "SERIALNUMBER=42,CN=x,OU=b1+OU=b2,O=a,L=Berlin,ST=BE,C=DE");
  // The last CN wins; an empty one is left out.
  CHECK(formatDistinguishedName({{kCN, "first"}, {kCN, "last"}}) == "CN=last");
  CHECK(formatDistinguishedName({{kO, "a"}, {kCN, ""}}) == "O=a");
  CHECK(formatDistinguishedName({}).empty());
}

TEST_CASE("tls info: other attribute types as hex DER, at the end", "[tls_info]") {
  // "ops@x.io" has '@', not PrintableString: a UTF8String (0x0c).
  CHECK(formatDistinguishedName({{kCN, "web"}, {kEmail, "ops@x.io"}}) ==
        "CN=web,1.2.840.113549.1.9.1=#0c086f707340782e696f");
  // Printable: a PrintableString (0x13); in the certificate's order, reversed.
  CHECK(
      formatDistinguishedName({{"0.9.2342.19200300.100.1.25", "example"},
                               {"0.9.2342.19200300.100.1.25", "com"},
                               {kCN, "h"}}) ==
      "CN=h,0.9.2342.19200300.100.1.25=#1303636f6d,0.9.2342.19200300.100.1.25=#13076578616d706c65");
  // '*' and '&' are not printable for Go's encoder; a long value takes the long length form.
  CHECK(formatDistinguishedName({{"2.5.4.46", "*"}}) == "2.5.4.46=#0c012a");
  std::string hex;
  for (int i = 0; i < 200; ++i) hex += "61";
  CHECK(formatDistinguishedName({{"2.5.4.46", std::string(200, 'a')}}) == "2.5.4.46=#1381c8" + hex);
}

TEST_CASE("tls info: values escaped as Go escapes them", "[tls_info]") {
  CHECK(formatDistinguishedName({{kCN, "a,b+c\"d\\e<f>g;h"}}) ==
        "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h");
  // A space only at either end, '#' only at the start.
  CHECK(formatDistinguishedName({{kCN, " mid dle "}}) == "CN=\\ mid dle\\ ");
  CHECK(formatDistinguishedName({{kCN, "#a#"}}) == "CN=\\#a#");
  CHECK(formatDistinguishedName({{kO, " "}}) == "O=\\ ");
  CHECK(formatDistinguishedName({{kO, "\xc3\xa4 \xe2\x82\xac"}}) == "O=\xc3\xa4 \xe2\x82\xac");
}

TEST_CASE("tls info: label values are valid UTF-8 and bounded", "[tls_info]") {
  CHECK(boundedLabelValue("plain") == "plain");
  CHECK(boundedLabelValue("a\xff"
                          "b") ==
        "a\xef\xbf\xbd"
        "b");
  const std::string cut = boundedLabelValue(std::string(2000, 'x'));
  CHECK(cut.size() == 512);
  CHECK(cut == std::string(509, 'x') + "\xe2\x80\xa6");
  // Never inside a character: 300 two-byte characters.
  std::string wide;
  for (int i = 0; i < 300; ++i) wide += "\xc3\xa4";
  const std::string cutWide = boundedLabelValue(wide);
  CHECK(cutWide.size() <= 512);
  CHECK(envprobe::isValidUtf8(cutWide));
  CHECK(cutWide.substr(cutWide.size() - 3) == "\xe2\x80\xa6");
  CHECK(boundedLabelValue(std::string(100000, '\xff')).size() <= 512);
  CHECK(envprobe::isValidUtf8(boundedLabelValue(std::string(100000, '\xff'))));
}

TEST_CASE("tls info: a hostile leaf certificate's facts", "[tls_info]") {
  const std::string longOu(1000, 'u');
  const auto cert = hostileCert("web.test\xff\xfe\n\"x\"", longOu);
  envprobe::TlsFacts facts;
  envprobe::readLeafCertificate(cert.get(), facts);
  CHECK(facts.fingerprintSha256 == sha256OfDer(cert.get()));
  CHECK(facts.fingerprintSha256.size() == 64);
  CHECK(facts.serialNumber == "0a1b2c");
  CHECK(facts.subjectAlternative == "a.test,b.test");
  CHECK(facts.issuer == "CN=Test Root,O=Test CA");
  INFO(facts.subject);
  CHECK(facts.subject.size() <= 512);
  CHECK(envprobe::isValidUtf8(facts.subject));
  CHECK_THAT(facts.subject,
             Catch::StartsWith("CN=web.test\xef\xbf\xbd\xef\xbf\xbd\n\\\"x\\\",OU=uuuu"));
  CHECK_THAT(facts.subject, Catch::EndsWith("\xe2\x80\xa6"));

  const auto plain = hostileCert("web.test", "ops");
  envprobe::TlsFacts plainFacts;
  envprobe::readLeafCertificate(plain.get(), plainFacts);
  CHECK(plainFacts.subject ==
        "CN=web.test,OU=ops,O=Acme\\, Inc. \xc3\xa4,C=DE,"
        "1.2.840.113549.1.9.1=#0c106f7073406578616d706c652e74657374");
}
