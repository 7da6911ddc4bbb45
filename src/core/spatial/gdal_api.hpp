// core/spatial/gdal_api.hpp (internal to the spatial module)
//
// GDAL, loaded on first use. Why: libgdal pulls in about a hundred shared libraries (poppler,
// HDF5, netCDF, Xerces, ...) whose loading and symbol binding cost every crimecast process about
// 40 ms of start-up, a tenth of a whole data.police.uk import, although only boundary files are
// read with GDAL (spatial/boundaries.cpp). crimecast_core therefore uses GDAL's headers but does
// not link it; LoadGdal() opens the library (by the soname found at build time) and looks up the
// functions listed below. Add a function to the list before calling it through Gdal().
#pragma once

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "core/common/error.hpp"

namespace crimecast::spatial::internal {

#define CRIMECAST_GDAL_FUNCTIONS(X)     \
  X(CPLErrorReset)                      \
  X(VSIFree)                            \
  X(CPLGetLastErrorMsg)                 \
  X(CPLPopErrorHandler)                 \
  X(CPLPushErrorHandler)                \
  X(CPLQuietErrorHandler)               \
  X(GDALAllRegister)                    \
  X(GDALClose)                          \
  X(GDALDatasetGetLayer)                \
  X(GDALDatasetGetLayerByName)          \
  X(GDALDatasetGetLayerCount)           \
  X(GDALOpenEx)                         \
  X(OCTDestroyCoordinateTransformation) \
  X(OCTNewCoordinateTransformation)     \
  X(OCTTransformEx)                     \
  X(OGR_FD_GetFieldCount)               \
  X(OGR_FD_GetFieldDefn)                \
  X(OGR_F_Destroy)                      \
  X(OGR_F_GetFieldAsString)             \
  X(OGR_F_GetGeometryRef)               \
  X(OGR_F_IsFieldSetAndNotNull)         \
  X(OGR_Fld_GetNameRef)                 \
  X(OGR_GT_Flatten)                     \
  X(OGR_G_DestroyGeometry)              \
  X(OGR_G_GetGeometryCount)             \
  X(OGR_G_GetGeometryRef)               \
  X(OGR_G_GetGeometryType)              \
  X(OGR_G_GetLinearGeometry)            \
  X(OGR_G_GetPointCount)                \
  X(OGR_G_GetPoints)                    \
  X(OGR_G_HasCurveGeometry)             \
  X(OGR_G_IsEmpty)                      \
  X(OGR_G_IsValid)                      \
  X(OGR_G_MakeValid)                    \
  X(OGR_L_GetGeomType)                  \
  X(OGR_L_GetLayerDefn)                 \
  X(OGR_L_GetName)                      \
  X(OGR_L_GetNextFeature)               \
  X(OGR_L_GetSpatialRef)                \
  X(OGR_L_ResetReading)                 \
  X(OSRClone)                           \
  X(OSRFindMatches)                     \
  X(OSRFreeSRSArray)                    \
  X(OSRGetAuthorityCode)                \
  X(OSRGetAuthorityName)                \
  X(OSRGetAxis)                         \
  X(OSRGetDataAxisToSRSAxisMapping)     \
  X(OSRGetName)                         \
  X(OSRImportFromEPSG)                  \
  X(OSRIsProjected)                     \
  X(OSRNewSpatialReference)             \
  X(OSRRelease)                         \
  X(OSRSetAxisMappingStrategy)

// Pointers to the GDAL functions of the list, with their declared types.
struct GdalApi {
#define CRIMECAST_GDAL_MEMBER(name) decltype(&::name) name = nullptr;
  CRIMECAST_GDAL_FUNCTIONS(CRIMECAST_GDAL_MEMBER)
#undef CRIMECAST_GDAL_MEMBER
};

// Loads GDAL once per process (thread-safe) and registers its drivers. Fails with kInternal,
// naming the library and dlerror()'s reason, when it cannot be loaded or lacks a function.
Result<const GdalApi*> LoadGdal();

// The loaded API; only after LoadGdal() succeeded (a programmer error otherwise).
const GdalApi& Gdal();

}  // namespace crimecast::spatial::internal
