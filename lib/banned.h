/*
 * Functions that are easy to misuse on untrusted bytes. Included last in
 * every .c file (after the system headers that declare them).
 */
#ifndef CARDSMITH_BANNED_H
#define CARDSMITH_BANNED_H

#define CS_BANNED(f) sorry_##f##_is_banned_in_cardsmith

#undef strcpy
#define strcpy(a, b) CS_BANNED(strcpy)
#undef strcat
#define strcat(a, b) CS_BANNED(strcat)
#undef strncpy
#define strncpy(a, b, c) CS_BANNED(strncpy)
#undef sprintf
#define sprintf(...) CS_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CS_BANNED(vsprintf)
#undef strtok
#define strtok(a, b) CS_BANNED(strtok)
#undef gets
#define gets(a) CS_BANNED(gets)
#undef atoi
#define atoi(a) CS_BANNED(atoi)
#undef mktemp
#define mktemp(a) CS_BANNED(mktemp)
#undef memcmp
#define memcmp(a, b, c) CS_BANNED(memcmp)

#endif
