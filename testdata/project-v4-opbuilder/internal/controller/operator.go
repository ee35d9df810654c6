/*
Copyright 2026 The opbuilder Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

// FieldOwner is the name this operator acts under. The opbuilder runtime uses
// it as the field manager of every server-side apply it makes, as the
// app.kubernetes.io/managed-by label of every object it creates, and as the
// source of the events it records; cmd/main.go scopes the manager's cache to
// the objects that carry it. Renaming it later makes the operator treat the
// objects it created before as someone else's, so choose it once.
const FieldOwner = "project-v4-opbuilder"
