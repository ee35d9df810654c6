// Package templates holds what the opbuilder/v1 scaffolds share: the markers
// they write into a project and later insert code at, and the paths of a
// kind's files. The templates themselves live in the sub-packages, one small
// type per file written or edited.
package templates
